//! The per-connection service hyper calls for each request: it hands the request to the
//! router with the peer address (`ConnectInfo`), counts it as in flight for the connection's
//! watchdog, and bounds its body. A request without a body whose path no listed path can
//! match goes to the router's fallback directly, with the peer address as an argument
//! ([`crate::Routes`], `router::fallback`): the router would only have passed it on.
//!
//! The body timeout: a request that has a body gets it wrapped in [`TimedBody`], whose clock
//! starts when the handler first waits for body bytes and runs for the whole body. When it
//! expires the handler's read fails, and whatever the handler answered is replaced by a 408
//! problem+json with `Connection: close` (HTTP/1 then closes the connection, whose unread
//! body would otherwise have to be skipped). Requests without a body (every `GET`) are passed
//! on untouched: the cached read path pays only the in-flight count.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::Response;
use axum::routing::future::RouteFuture;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use metrics::Counter;
use tower::Service as _;

use super::connection::Activity;
use crate::Routes;
use crate::router::UnlistedAnswer;

/// Serves the requests of one connection (see the module documentation).
#[derive(Debug, Clone)]
pub(super) struct ConnectionService {
    routes: Routes,
    peer: SocketAddr,
    activity: Arc<Activity>,
    body_timeout: Duration,
    body_timeouts: Counter,
}

impl ConnectionService {
    pub(super) fn new(
        routes: Routes,
        peer: SocketAddr,
        activity: Arc<Activity>,
        body_timeout: Duration,
        body_timeouts: Counter,
    ) -> Self {
        Self {
            routes,
            peer,
            activity,
            body_timeout,
            body_timeouts,
        }
    }
}

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = Response;
    type Error = Infallible;
    type Future = Served;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        self.activity.request_started();
        let in_flight = InFlight(Arc::clone(&self.activity));
        let without_body = http_body::Body::is_end_stream(request.body());
        if without_body
            && let Some(unlisted) = self.routes.unlisted()
            && unlisted.holds(request.uri().path())
        {
            // No body to time: the request's own is dropped.
            let request = request.map(|_| Body::empty());
            return Served {
                inner: Answer::Unlisted {
                    future: unlisted.answer(request, self.peer),
                },
                _in_flight: in_flight,
                body: None,
            };
        }
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let mut router = self.routes.router().clone();
        if without_body {
            return Served {
                inner: Answer::Routed {
                    future: router.call(request),
                },
                _in_flight: in_flight,
                body: None,
            };
        }
        let expired = Arc::new(AtomicBool::new(false));
        let timeout = self.body_timeout;
        let request = request.map(|body| {
            Body::new(TimedBody {
                inner: body,
                timeout,
                deadline: None,
                expired: Arc::clone(&expired),
            })
        });
        Served {
            inner: Answer::Routed {
                future: router.call(request),
            },
            _in_flight: in_flight,
            body: Some(BodyWatch {
                expired,
                timeout,
                counter: self.body_timeouts.clone(),
            }),
        }
    }
}

/// Counts a request in flight until its response is ready or it is abandoned.
#[derive(Debug)]
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_finished();
    }
}

/// What the response future needs to know about a timed body.
#[derive(Debug)]
struct BodyWatch {
    expired: Arc<AtomicBool>,
    timeout: Duration,
    counter: Counter,
}

pin_project_lite::pin_project! {
    /// The response future, answering 408 instead when the body timed out.
    pub(super) struct Served {
        #[pin]
        inner: Answer,
        _in_flight: InFlight,
        body: Option<BodyWatch>,
    }
}

pin_project_lite::pin_project! {
    /// The router's answer, or its fallback's without it.
    #[project = AnswerProjection]
    enum Answer {
        Routed { #[pin] future: RouteFuture<Infallible> },
        Unlisted { #[pin] future: UnlistedAnswer },
    }
}

impl Future for Answer {
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        match self.project() {
            AnswerProjection::Routed { future } => future.poll(cx).map(|Ok(response)| response),
            AnswerProjection::Unlisted { future } => future.poll(cx),
        }
    }
}

impl Future for Served {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.inner.poll(cx));
        match this.body {
            Some(watch) if watch.expired.load(Ordering::Relaxed) => {
                watch.counter.increment(1);
                Poll::Ready(Ok(body_timed_out(watch.timeout)))
            }
            _ => Poll::Ready(Ok(response)),
        }
    }
}

/// The answer to a request whose body did not arrive in time.
fn body_timed_out(timeout: Duration) -> Response {
    let mut response = crate::error::problem_response(
        StatusCode::REQUEST_TIMEOUT,
        "request-timeout",
        "Request timeout",
        format!(
            "the request body did not arrive within {} s; send the whole body without pausing",
            timeout.as_secs_f64()
        ),
        None,
    );
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    crate::security::add_headers(headers);
    response
}

/// The error a timed-out body read gives the handler.
#[derive(Debug)]
struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimedOut {}

pin_project_lite::pin_project! {
    /// A request body that must arrive within `timeout` of the first wait for it.
    struct TimedBody {
        #[pin]
        inner: Incoming,
        timeout: Duration,
        #[pin]
        deadline: Option<tokio::time::Sleep>,
        expired: Arc<AtomicBool>,
    }
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        if this.deadline.is_none() {
            this.deadline.set(Some(tokio::time::sleep(*this.timeout)));
        }
        if let Some(deadline) = this.deadline.as_pin_mut()
            && deadline.poll(cx).is_ready()
        {
            this.expired.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(Box::new(BodyTimedOut))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
