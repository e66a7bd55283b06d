//! The extractors every route group shares, whose rejections speak problem+json like every
//! other error, naming the part of the request at fault: [`ApiPath`], [`ApiQuery`],
//! [`ApiJson`], the client address ([`ClientIp`]), and the query types of more than one group
//! ([`PageQuery`] of the paginated lists, [`WindowQuery`] of the history reads). Route modules
//! import these from here, never from each other.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query};
use axum::http::request::Parts;

use crate::AppState;
use crate::auth;
use crate::error::ApiError;

pub use crate::routes::page::PageQuery;
pub use crate::routes::window::WindowQuery;

/// `Path<T>` with a problem+json 400 (e.g. a path segment that is not UTF-8).
#[derive(Debug, FromRequestParts)]
#[from_request(via(Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// `Query<T>` with a problem+json 400 that names the parameter at fault.
#[derive(Debug, FromRequestParts)]
#[from_request(via(Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::BadRequest(format!("invalid path: {}", rejection.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::BadRequest(format!("invalid query string: {}", rejection.body_text()))
    }
}

/// `Json<T>` whose rejections are problem+json: 400 for malformed JSON, 415 for a body not
/// sent as `application/json`, 422 naming the field for a body of the wrong shape, including a
/// body that is not a JSON object (serde would read a struct from an array of its fields).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<serde_json::Value>::from_request(request, state).await?;
        if !value.is_object() {
            return Err(ApiError::Unprocessable(
                "invalid body: expected a JSON object ({…})".into(),
            ));
        }
        // Read again from text so serde's error names the field's path (`channels[0]: …`), as
        // axum's own rejection does; bodies are small.
        let text = serde_json::to_vec(&value)
            .map_err(|_| ApiError::Internal("a JSON body could not be written back"))?;
        let Json(body) = Json::<T>::from_bytes(&text)?;
        Ok(Self(body))
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(err) => {
                Self::Unprocessable(format!("invalid body: {}", err.body_text()))
            }
            JsonRejection::MissingJsonContentType(_) => Self::UnsupportedMediaType(
                "send the body as JSON with `Content-Type: application/json`".into(),
            ),
            other => Self::BadRequest(format!("invalid JSON body: {}", other.body_text())),
        }
    }
}

/// The client address of a request (see [`auth::AuthSettings::trust_forwarded_for`]).
#[derive(Debug)]
pub struct ClientIp(pub Option<std::net::IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Self(auth::client_ip(
            &parts.headers,
            auth::peer(&parts.extensions),
            state.auth().trust_forwarded_for,
        )))
    }
}
