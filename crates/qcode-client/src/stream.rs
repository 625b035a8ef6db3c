//! The per-request state machine behind [`ResponseStream`]: credentials, send, status
//! handling, the 401 refresh, retries with visible `Retry` events, and reading the SSE body
//! with an idle timeout and cancellation.
//!
//! Retry rule: an attempt is retried (when the error is retryable and the policy allows) only
//! while no text, reasoning or tool call was produced; afterwards a failure ends the stream with
//! the error, so output is never duplicated. A transport failure *after* the finish chunk ends
//! the stream normally (the answer is complete). A body that ends cleanly without `[DONE]` is
//! complete too, with `Finish(Unknown)` when no finish reason came; a body that ends before
//! any data is a retryable [`ClientError::Stream`]. A `200` with a JSON body (a provider that
//! ignored `stream: true`) is decoded as one whole completion; a `200` HTML page is an error.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use futures::Stream;
use tokio_util::sync::CancellationToken;

use crate::client::{Target, cancellable, read_body, timeout};
use crate::decode::{Decoder, Out, Step};
use crate::retry::{Decision, attempt_limit, decide, parse_retry_after, reason};
use crate::sse::{SseEvent, SseParser};
use crate::transport::with_details;
use crate::{ChatClient, ClientError, CredentialSource, Endpoint, ResponseEvent, TimeoutPhase};

const MAX_ERROR_BODY: usize = 64 * 1024;
/// Longest non-streamed (whole JSON) completion accepted.
const MAX_JSON_BODY: usize = 32 << 20;

type Item = Result<ResponseEvent, ClientError>;

/// The events of one streamed chat completion. Ends after `Finish` or the first error.
pub struct ResponseStream {
    inner: Pin<Box<dyn Stream<Item = Item> + Send>>,
}

impl Stream for ResponseStream {
    type Item = Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl std::fmt::Debug for ResponseStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseStream")
    }
}

enum Phase {
    Connect,
    Backoff(Duration),
    Streaming(Box<Active>),
    Done,
}

struct Active {
    response: reqwest::Response,
    parser: SseParser,
    decoder: Decoder,
    /// The success status, for the empty-answer error.
    status: u16,
    /// Body bytes received so far (0 at the end: an empty answer).
    received: usize,
}

pub(crate) struct Driver {
    client: ChatClient,
    credentials: Arc<dyn CredentialSource>,
    body: Result<Bytes, ClientError>,
    cancel: CancellationToken,
    out: Out,
    phase: Phase,
    attempt: u32,
    started: Instant,
    refreshed: bool,
    next_endpoint: Option<Endpoint>,
}

impl Driver {
    pub(crate) fn new(
        client: ChatClient,
        credentials: Arc<dyn CredentialSource>,
        body: Result<Bytes, ClientError>,
        cancel: CancellationToken,
    ) -> Self {
        Self {
            client,
            credentials,
            body,
            cancel,
            out: VecDeque::new(),
            phase: Phase::Connect,
            attempt: 1,
            started: Instant::now(),
            refreshed: false,
            next_endpoint: None,
        }
    }

    pub(crate) fn into_stream(self) -> ResponseStream {
        let stream = futures::stream::unfold(self, |mut driver| async move {
            let item = driver.next().await?;
            Some((item, driver))
        });
        ResponseStream {
            inner: Box::pin(stream),
        }
    }

    async fn next(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.out.pop_front() {
                return Some(item);
            }
            let phase = std::mem::replace(&mut self.phase, Phase::Done);
            if !matches!(phase, Phase::Done) && self.cancel.is_cancelled() {
                return Some(Err(ClientError::Cancelled));
            }
            let result = match phase {
                Phase::Done => return None,
                Phase::Backoff(delay) => cancellable(&self.cancel, tokio::time::sleep(delay))
                    .await
                    .map(|()| self.phase = Phase::Connect),
                Phase::Connect => self.connect().await,
                Phase::Streaming(active) => self.read(active).await,
            };
            if let Err(error) = result {
                // Fatal: report and stop (phase is already Done unless a step set another).
                self.phase = Phase::Done;
                self.out.push_back(Err(error));
            }
        }
    }

    /// One attempt: credentials, send, status. Sets the next phase.
    async fn connect(&mut self) -> Result<(), ClientError> {
        let body = self.body.clone()?;
        let endpoint = match self.next_endpoint.take() {
            Some(endpoint) => endpoint,
            None => cancellable(&self.cancel, self.credentials.endpoint()).await??,
        };
        let target = Target::new(&endpoint.base_url, "chat/completions")?;
        let request = self.client.chat_request(&target, &endpoint, body)?;
        let idle = self.client.options.idle_timeout;
        let sent = cancellable(&self.cancel, tokio::time::timeout(idle, request.send())).await?;
        let response = match sent {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => return self.attempt_failed(self.client.send_error(&e, &target), None),
            Err(_) => return self.attempt_failed(timeout(TimeoutPhase::Response, idle), None),
        };
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_ascii_lowercase();
            if content_type.starts_with("text/html") {
                return Err(ClientError::Malformed {
                    message: format!(
                        "{} answered with an HTML page instead of an event stream",
                        target.host_port
                    ),
                });
            }
            if content_type.starts_with("application/json") {
                let body = read_body(response, MAX_JSON_BODY, idle, &self.cancel).await?;
                if body.iter().all(u8::is_ascii_whitespace) {
                    return self.attempt_failed(ClientError::EmptyResponse { status }, None);
                }
                return self.whole_completion(&body, endpoint.bearer.clone());
            }
            self.phase = Phase::Streaming(Box::new(Active {
                response,
                parser: SseParser::new(),
                decoder: Decoder::new(endpoint.bearer.clone()),
                status,
                received: 0,
            }));
            return Ok(());
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let body = read_body(response, MAX_ERROR_BODY, idle, &self.cancel).await?;
        let error =
            crate::provider::from_status(status, &body, &target.shown, endpoint.bearer.as_ref());
        if status == 401 && !self.refreshed {
            self.refreshed = true;
            let fresh =
                cancellable(&self.cancel, self.credentials.on_unauthorized(&endpoint)).await??;
            return match fresh {
                Some(fresh) => {
                    self.next_endpoint = Some(fresh);
                    self.phase = Phase::Connect;
                    Ok(())
                }
                None => Err(error),
            };
        }
        self.attempt_failed(error, retry_after)
    }

    /// A provider that ignored `stream: true` and sent one whole completion (`choices[].message`):
    /// decoded like a single chunk.
    fn whole_completion(
        &mut self,
        body: &[u8],
        secret: Option<crate::Secret>,
    ) -> Result<(), ClientError> {
        let mut decoder = Decoder::new(secret);
        let event = SseEvent {
            event: b"",
            data: body,
        };
        match decoder.on_event(event, &mut self.out) {
            Ok(_) => {
                decoder.finish(&mut self.out);
                self.phase = Phase::Done;
                Ok(())
            }
            Err(error) if decoder.produced_output() => Err(error),
            Err(error) => self.attempt_failed(error, None),
        }
    }

    /// An attempt failed before producing output: schedule a retry or give up.
    fn attempt_failed(
        &mut self,
        error: ClientError,
        retry_after: Option<Duration>,
    ) -> Result<(), ClientError> {
        let policy = self.client.options.retry;
        let why = reason(&error);
        let max_attempts = attempt_limit(&policy, &error);
        match decide(
            &policy,
            self.attempt,
            self.started.elapsed(),
            error,
            retry_after,
        ) {
            Decision::GiveUp(error) => Err(error),
            Decision::RetryAfter(delay) => {
                self.attempt += 1;
                self.out.push_back(Ok(ResponseEvent::Retry {
                    attempt: self.attempt,
                    max_attempts,
                    delay,
                    reason: why,
                }));
                self.phase = Phase::Backoff(delay);
                Ok(())
            }
        }
    }

    /// Reads the next piece of the body and decodes what it completes.
    async fn read(&mut self, mut active: Box<Active>) -> Result<(), ClientError> {
        let idle = self.client.options.idle_timeout;
        let next = cancellable(
            &self.cancel,
            tokio::time::timeout(idle, active.response.chunk()),
        )
        .await?;
        let failure = match next {
            Ok(Ok(Some(bytes))) => {
                active.received += bytes.len();
                active.parser.push(&bytes);
                return self.decode_buffered(active, Ending::MoreToCome);
            }
            Ok(Ok(None)) => return self.decode_buffered(active, Ending::EndOfBody),
            Ok(Err(e)) => ClientError::Stream {
                message: with_details(
                    if active.decoder.produced_output() {
                        "the server closed the connection in the middle of the answer"
                    } else {
                        "the server closed the connection before it sent any of the answer"
                    },
                    &e,
                ),
            },
            Err(_) => timeout(TimeoutPhase::Idle, idle),
        };
        self.stream_failed(active, failure)
    }

    fn decode_buffered(
        &mut self,
        mut active: Box<Active>,
        ending: Ending,
    ) -> Result<(), ClientError> {
        let Active {
            parser, decoder, ..
        } = &mut *active;
        loop {
            let event = match ending {
                Ending::MoreToCome => parser.next_event(),
                Ending::EndOfBody => match parser.next_event() {
                    Ok(None) => parser.finish(),
                    other => other,
                },
            };
            let step = match event {
                Ok(Some(event)) => decoder.on_event(event, &mut self.out),
                Ok(None) => break,
                Err(_) => Err(ClientError::Malformed {
                    message: "a stream line or event exceeded 32 MiB".into(),
                }),
            };
            match step {
                Ok(Step::Continue) => {}
                Ok(Step::Done) => {
                    decoder.finish(&mut self.out);
                    self.phase = Phase::Done;
                    return Ok(());
                }
                Err(error) => return self.stream_failed(active, error),
            }
        }
        match ending {
            Ending::MoreToCome => {
                self.phase = Phase::Streaming(active);
                Ok(())
            }
            Ending::EndOfBody if decoder.finish_seen() || decoder.produced_output() => {
                decoder.finish(&mut self.out);
                self.phase = Phase::Done;
                Ok(())
            }
            Ending::EndOfBody if active.received == 0 => {
                let status = active.status;
                self.stream_failed(active, ClientError::EmptyResponse { status })
            }
            Ending::EndOfBody => self.stream_failed(
                active,
                ClientError::Stream {
                    message: "the server ended the response without sending an answer".into(),
                },
            ),
        }
    }

    /// The body failed: complete if the finish was seen, fail without retry after output,
    /// otherwise treat it as a failed attempt.
    fn stream_failed(
        &mut self,
        mut active: Box<Active>,
        error: ClientError,
    ) -> Result<(), ClientError> {
        if active.decoder.finish_seen() {
            active.decoder.finish(&mut self.out);
            self.phase = Phase::Done;
            return Ok(());
        }
        if active.decoder.produced_output() {
            return Err(error);
        }
        self.attempt_failed(error, None)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    MoreToCome,
    EndOfBody,
}
