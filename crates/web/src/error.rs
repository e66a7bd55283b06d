//! The one error type at the HTTP edge, rendered as RFC 9457 problem+json.
//!
//! Handlers return `Result<_, ApiError>` and use `?`; this module alone decides the status code,
//! the `Retry-After` header and what a client may read. 5xx bodies never carry internals, and
//! each failure is logged once, here.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use market::MarketError;
use providers::ProviderError;
use serde::Serialize;
use service::ServiceError;
use utoipa::{IntoResponses, ToSchema};

/// Retry-After used when the upstream did not say when to come back.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:stockd:problem:<kind>`).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short, fixed summary of the kind.
    pub title: &'static str,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request and what to do about it.
    pub detail: String,
}

/// The problem answers every market-data route can give, for the OpenAPI document.
#[derive(Debug, IntoResponses)]
pub enum ReadErrors {
    /// Malformed symbol, days or dates; an end-of-day `date` after today (New York).
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(#[to_schema] Problem),
    /// Unknown symbol, or no data for it.
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(#[to_schema] Problem),
    /// The upstream failed (5xx, timeout, malformed body, rejected key) and nothing is stored.
    #[response(status = 502, content_type = "application/problem+json")]
    BadGateway(#[to_schema] Problem),
    /// This client's reads that must be fetched from a provider (cache misses) are spent for
    /// now, or it sent too many reads; `Retry-After` says when to come back.
    #[response(status = 429, content_type = "application/problem+json")]
    TooManyRequests(#[to_schema] Problem),
    /// The provider reported its own limit reached and is paused until that limit resets (type
    /// `upstream-rate-limited`), or this deployment's configured call quota is spent (type
    /// `upstream-quota-exhausted`; for requests: up to the part reserved for scheduled
    /// ingestion), or its breaker is open, and nothing is stored; `Retry-After` says when to
    /// come back.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(#[to_schema] Problem),
}

/// Everything a handler can fail with.
#[derive(Debug)]
pub enum ApiError {
    /// The request itself is malformed (bad symbol, days, dates).
    BadRequest(String),
    /// A series list that cannot be parsed; answered with the indicator catalogue.
    BadIndicator(String),
    /// No such route or resource.
    NotFound(String),
    /// The read path failed.
    Market(MarketError),
    /// A dependency of readiness is down (`/ready`).
    Unavailable(String),
    /// No credentials where they are needed.
    Unauthorized(String),
    /// Credentials that do not allow this.
    Forbidden(String),
    /// The request clashes with what exists (an email already registered).
    Conflict(String),
    /// Well-formed but invalid input; the detail names the field.
    Unprocessable(String),
    /// A body in a media type the route does not take (not `application/json`).
    UnsupportedMediaType(String),
    /// Too many attempts (failed logins, registrations); retry after the duration.
    TooManyRequests {
        detail: String,
        retry_after: Duration,
    },
    /// The caller has as many of something as one account may (`setting` names the cap).
    CapReached {
        setting: &'static str,
        cap: u32,
        detail: String,
    },
    /// A symbol to watch or track could not be checked with a provider (`cause`), so it was
    /// not added.
    SymbolUnverified {
        symbol: domain::Symbol,
        cause: Box<ApiError>,
    },
    /// Too much work in flight (the password hashing queue is full); retry after the duration.
    Busy {
        detail: String,
        retry_after: Duration,
    },
    /// News is off (no source configured) and nothing is stored; the detail says how to turn
    /// it on.
    NewsOff(String),
    /// The database failed (unreachable, full): operational, not the request's fault.
    Store(store::StoreError),
    /// A bug: a state that should never be reached.
    Internal(&'static str),
}

/// The one place use-case outcomes become HTTP answers: each kind keeps its meaning (a
/// conflict is 409, an invalid field 422, a spent cap 409 `cap-reached`, …; see [`ApiError`]'s
/// rendering).
impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::BadRequest(detail) => Self::BadRequest(detail),
            ServiceError::BadIndicator(detail) => Self::BadIndicator(detail),
            ServiceError::NotFound(detail) => Self::NotFound(detail),
            ServiceError::Market(err) => Self::Market(err),
            ServiceError::Unauthorized(detail) => Self::Unauthorized(detail),
            ServiceError::Forbidden(detail) => Self::Forbidden(detail),
            ServiceError::Conflict(detail) => Self::Conflict(detail),
            ServiceError::Unprocessable(detail) => Self::Unprocessable(detail),
            ServiceError::TooManyRequests {
                detail,
                retry_after,
            } => Self::TooManyRequests {
                detail,
                retry_after,
            },
            ServiceError::CapReached {
                setting,
                cap,
                detail,
            } => Self::CapReached {
                setting,
                cap,
                detail,
            },
            ServiceError::SymbolUnverified { symbol, cause } => Self::SymbolUnverified {
                symbol,
                cause: Box::new(Self::Market(cause)),
            },
            ServiceError::Busy {
                detail,
                retry_after,
            } => Self::Busy {
                detail,
                retry_after,
            },
            ServiceError::NewsOff(detail) => Self::NewsOff(detail),
            ServiceError::Store(err) => Self::Store(err),
            ServiceError::Internal(what) => Self::Internal(what),
        }
    }
}

impl From<MarketError> for ApiError {
    fn from(err: MarketError) -> Self {
        Self::Market(err)
    }
}

impl From<domain::SymbolError> for ApiError {
    fn from(err: domain::SymbolError) -> Self {
        Self::BadRequest(err.to_string())
    }
}

struct Rendered {
    status: StatusCode,
    kind: &'static str,
    title: &'static str,
    detail: String,
    retry_after: Option<Duration>,
}

/// What an error answers, for one item of a multi-item response.
#[derive(Debug)]
pub(crate) struct ItemProblem {
    pub(crate) status: StatusCode,
    /// The problem type's last part (`unknown-symbol`).
    pub(crate) kind: &'static str,
    pub(crate) title: &'static str,
    pub(crate) detail: String,
    pub(crate) retry_after: Option<Duration>,
}

impl ApiError {
    /// What this error answers (for per-item errors of a multi-item response).
    pub(crate) fn item_problem(&self) -> ItemProblem {
        let rendered = self.render();
        ItemProblem {
            status: rendered.status,
            kind: rendered.kind,
            title: rendered.title,
            detail: rendered.detail,
            retry_after: rendered.retry_after,
        }
    }

    fn render(&self) -> Rendered {
        let plain = |status, kind, title, detail: String| Rendered {
            status,
            kind,
            title,
            detail,
            retry_after: None,
        };
        match self {
            Self::BadRequest(detail) => plain(
                StatusCode::BAD_REQUEST,
                "bad-request",
                "Bad request",
                detail.clone(),
            ),
            Self::BadIndicator(detail) => plain(
                StatusCode::BAD_REQUEST,
                "bad-indicator",
                "Bad indicator",
                detail.clone(),
            ),
            Self::NotFound(detail) => plain(
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                detail.clone(),
            ),
            Self::Unauthorized(detail) => plain(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Unauthorized",
                detail.clone(),
            ),
            Self::Forbidden(detail) => plain(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden",
                detail.clone(),
            ),
            Self::Conflict(detail) => {
                plain(StatusCode::CONFLICT, "conflict", "Conflict", detail.clone())
            }
            Self::Unprocessable(detail) => plain(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-field",
                "Invalid field",
                detail.clone(),
            ),
            Self::UnsupportedMediaType(detail) => plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                detail.clone(),
            ),
            Self::TooManyRequests {
                detail,
                retry_after,
            } => Rendered {
                retry_after: Some(*retry_after),
                ..plain(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too-many-requests",
                    "Too many requests",
                    detail.clone(),
                )
            },
            Self::CapReached {
                setting,
                cap,
                detail,
            } => plain(
                StatusCode::CONFLICT,
                "cap-reached",
                "Cap reached",
                format!("{detail} ({setting} = {cap})"),
            ),
            Self::SymbolUnverified { symbol, cause } => {
                let cause = cause.render();
                Rendered {
                    kind: "symbol-unverified",
                    title: "Symbol not verified",
                    detail: format!(
                        "{symbol} was not added: no provider could confirm it exists just now ({}); try again later",
                        cause.detail
                    ),
                    ..cause
                }
            }
            Self::Busy {
                detail,
                retry_after,
            } => Rendered {
                retry_after: Some(*retry_after),
                ..plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "Busy",
                    detail.clone(),
                )
            },
            Self::NewsOff(detail) => plain(
                StatusCode::NOT_FOUND,
                "news-off",
                "News is off",
                detail.clone(),
            ),
            Self::Store(_) => Rendered {
                retry_after: Some(Duration::from_secs(5)),
                ..plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database-unavailable",
                    "Database unavailable",
                    "the database did not answer; try again shortly".into(),
                )
            },
            Self::Unavailable(detail) => Rendered {
                retry_after: Some(Duration::from_secs(5)),
                ..plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "not-ready",
                    "Not ready",
                    detail.clone(),
                )
            },
            Self::Market(MarketError::BreakerOpen {
                provider,
                retry_after,
            }) => Rendered {
                retry_after: Some(*retry_after),
                ..plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "upstream-unavailable",
                    "Upstream unavailable",
                    format!(
                        "{provider} is failing and its circuit breaker is open, and no earlier copy is stored; retry after {}s",
                        retry_after.as_secs().max(1)
                    ),
                )
            },
            Self::Market(MarketError::QuotaExhausted {
                provider,
                window,
                limit,
                resets_at,
                retry_after,
                reserved,
            }) => Rendered {
                retry_after: Some(*retry_after),
                ..plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "upstream-quota-exhausted",
                    "Upstream quota spent",
                    quota_detail(
                        provider,
                        Spent {
                            window: *window,
                            limit: *limit,
                            resets_at: *resets_at,
                            retry_after: *retry_after,
                            reserved: *reserved,
                        },
                    ),
                )
            },
            Self::Market(MarketError::ProviderPaused {
                provider,
                limit,
                until,
                retry_after,
            }) => Rendered {
                retry_after: Some(*retry_after),
                ..plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "upstream-rate-limited",
                    "Upstream rate limit reached",
                    format!(
                        "{provider} is rate limiting stockd: it reported that its own {limit} is reached; stockd will not call it before {} (in {}s), when that limit resets, and no earlier copy is stored",
                        until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        retry_after.as_secs().max(1)
                    ),
                )
            },
            Self::Market(MarketError::ReadBudgetSpent { retry_after }) => Rendered {
                retry_after: Some(*retry_after),
                ..plain(
                    StatusCode::TOO_MANY_REQUESTS,
                    "upstream-reads-limited",
                    "Too many uncached reads",
                    format!(
                        "this client has used its share of reads that must be fetched from an upstream provider (limits.upstream_reads_per_minute); symbols already cached are still served; retry in {}s",
                        retry_after.as_secs().max(1)
                    ),
                )
            },
            Self::Market(MarketError::Provider(err)) => render_provider(err),
            Self::Market(MarketError::Internal(_) | MarketError::Store(_)) | Self::Internal(_) => {
                plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "stockd hit an unexpected state; the error was logged".into(),
                )
            }
        }
    }
}

/// A spent window of a configured quota, as `MarketError::QuotaExhausted` reports it.
struct Spent {
    window: market::QuotaWindow,
    limit: u64,
    resets_at: chrono::DateTime<chrono::Utc>,
    retry_after: Duration,
    reserved: u64,
}

/// The detail of a spent quota: the whole window, or the part requests may use, the rest being
/// kept for scheduled ingestion. It names the setting, so nobody mistakes it for the provider's
/// own limit.
fn quota_detail(provider: &str, spent: Spent) -> String {
    let Spent {
        window,
        limit,
        resets_at,
        retry_after,
        reserved,
    } = spent;
    let resets = resets_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let wait = retry_after.as_secs().max(1);
    let key = match window {
        market::QuotaWindow::Minute => "minute",
        market::QuotaWindow::Day => "day",
    };
    let setting = format!("quotas.{provider}.per_{key} = {limit}");
    if reserved > 0 {
        format!(
            "{provider}'s {window} call quota configured for this deployment ({setting}) is spent for requests, and no earlier copy is stored; the rest ({reserved} calls, quotas.{provider}.reserved_per_{key}) is reserved for scheduled ingestion of tracked symbols; it resets at {resets} (in {wait}s)"
        )
    } else {
        format!(
            "{provider}'s {window} call quota configured for this deployment ({setting}) is spent and no earlier copy is stored; it resets at {resets} (in {wait}s)"
        )
    }
}

fn render_provider(err: &ProviderError) -> Rendered {
    let upstream = |kind, title, detail| Rendered {
        status: StatusCode::BAD_GATEWAY,
        kind,
        title,
        detail,
        retry_after: None,
    };
    match err {
        ProviderError::UnknownSymbol { symbol, detail } => Rendered {
            status: StatusCode::NOT_FOUND,
            kind: "unknown-symbol",
            title: "Unknown symbol",
            detail: format!("{symbol}: {detail}"),
            retry_after: None,
        },
        ProviderError::NoData { provider, symbol } => Rendered {
            status: StatusCode::NOT_FOUND,
            kind: "no-data",
            title: "No data",
            detail: format!("{provider} has no daily data for {symbol}"),
            retry_after: None,
        },
        ProviderError::RateLimited {
            provider,
            retry_after,
            ..
        } => Rendered {
            status: StatusCode::SERVICE_UNAVAILABLE,
            kind: "upstream-rate-limited",
            title: "Upstream rate limit reached",
            detail: format!(
                "{provider} reported that its own rate limit is reached and no earlier copy is stored; retry later or use a key with a higher quota"
            ),
            retry_after: Some(retry_after.unwrap_or(DEFAULT_RETRY_AFTER)),
        },
        ProviderError::PremiumOnly { provider, .. } => upstream(
            "upstream-premium-only",
            "Upstream plan too small",
            format!("{provider} serves this only on a premium plan"),
        ),
        ProviderError::NotSupported {
            provider,
            capability,
        } => upstream(
            "upstream-not-supported",
            "Upstream cannot serve this",
            format!("{provider} cannot serve {capability}; configure a provider that can"),
        ),
        ProviderError::Unauthorized { provider, .. } => upstream(
            "upstream-unauthorized",
            "Upstream rejected the API key",
            format!(
                "{provider} rejected the configured API key; check APIKEY / STOCKD_ALPHAVANTAGE_API_KEY"
            ),
        ),
        ProviderError::Timeout { provider } => upstream(
            "upstream-timeout",
            "Upstream timeout",
            format!(
                "{provider} did not answer in time and no earlier copy is stored; try again shortly"
            ),
        ),
        ProviderError::Upstream { provider, .. } => upstream(
            "upstream-error",
            "Upstream error",
            format!("{provider} failed and no earlier copy is stored; try again shortly"),
        ),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let rendered = self.render();
        if rendered.status.is_server_error() {
            // The full error (with the provider's own words, never a key) goes to the log once,
            // with the request id the client also sees in `x-request-id`.
            let request_id = crate::observe::current_request_id();
            match &self {
                Self::Market(MarketError::Internal(_) | MarketError::Store(_))
                | Self::Internal(_) => {
                    tracing::error!(error = ?self, %request_id, "request failed")
                }
                _ => tracing::warn!(
                    error = ?self,
                    status = rendered.status.as_u16(),
                    %request_id,
                    "request failed"
                ),
            }
        }
        if let Self::BadIndicator(_) = self {
            return catalogue_problem(
                rendered.status,
                rendered.kind,
                rendered.title,
                rendered.detail,
            );
        }
        let mut response = problem_response(
            rendered.status,
            rendered.kind,
            rendered.title,
            rendered.detail,
            rendered.retry_after,
        );
        if rendered.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// A `bad-indicator` problem: the usual members and the catalogue as `indicators`, so a client
/// can correct the series without another request.
fn catalogue_problem(
    status: StatusCode,
    kind: &str,
    title: &'static str,
    detail: String,
) -> Response {
    let problem = crate::routes::indicators::IndicatorProblem {
        kind: format!("urn:stockd:problem:{kind}"),
        title,
        status: status.as_u16(),
        detail,
        indicators: Some(crate::routes::indicators::catalogue()),
    };
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

/// Builds a problem+json response.
pub fn problem_response(
    status: StatusCode,
    kind: &str,
    title: &'static str,
    detail: String,
    retry_after: Option<Duration>,
) -> Response {
    let problem = Problem {
        kind: format!("urn:stockd:problem:{kind}"),
        title,
        status: status.as_u16(),
        detail,
    };
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if let Some(after) = retry_after {
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from(after.as_secs().max(1)),
        );
    }
    response
}
