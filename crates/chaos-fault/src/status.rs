//! `status`: answer with a provider-faithful error instead of forwarding: 400 (the context
//! window exceeded), 408, 429 (rate limit with `retry-after` and the provider's rate-limit
//! headers, or OpenAI's not-retryable `insufficient_quota`), 500, 502, 503, 504, Anthropic's
//! 529, and 200 with an error body (Azure's platform errors, 429 and 503, in its own shape with
//! `x-ms-retry-after-ms`; its model errors in OpenAI's; Gemini's in Google's shape, its 429's
//! wait in the body's `RetryInfo`) — with the body and headers the upstream's family sends,
//! and `x-should-retry` when asked. The 408 and 504 bodies are generic (the providers document
//! none for them); the SDKs retry both whatever the body says.
//!
//! ```yaml
//! - { status: 429, retry_after: 2s, probability: 30% }
//! - { status: 429, retry_after: { uniform: [1s, 5s] } }   # a wait drawn for each answer
//! - { status: 429, quota: true }          # OpenAI's insufficient_quota
//! - { status: 503, should_retry: false }  # x-should-retry: false
//! ```

use std::time::{Duration, SystemTime};

use rand::rngs::StdRng;
use serde::de::MapAccess;
use serde_saphyr::{Location, Spanned};

use super::{Decision, Fault, FaultContext, RequestView};
use crate::{
    delay::{DelayDistribution, RawLatency},
    located::{Checked, Located},
    speed::Speed,
    wire::{anthropic, azure, bedrock, gemini, openai, ApiFamily, CannedResponse, LimitHeaders},
};

/// The statuses this fault can return for an API family.
pub fn supported_statuses(family: ApiFamily) -> &'static [u16] {
    match family {
        ApiFamily::OpenAi | ApiFamily::Azure => &[200, 400, 408, 429, 500, 502, 503, 504],
        ApiFamily::Gemini => &[200, 400, 429, 500, 503, 504],
        ApiFamily::Anthropic => &[200, 400, 408, 429, 500, 502, 503, 504, 529],
        // No 200 with an error body: Bedrock's errors are never sent with a 2xx.
        ApiFamily::Bedrock => &[400, 408, 424, 429, 500, 502, 503, 504],
    }
}

/// The limits an injected 429 reports in its rate-limit headers, as a first-tier account
/// of either provider sees them: 500 requests and 200,000 tokens a minute, the requests used
/// up, resetting when the wait it asks for is over (or in a second).
const INJECTED_LIMITS: LimitHeaders = LimitHeaders {
    limit_requests: 500,
    remaining_requests: 0,
    reset_requests: Duration::from_secs(1),
    limit_tokens: 200_000,
    remaining_tokens: 200_000,
    reset_tokens: Duration::ZERO,
};

/// The options a `status` fault takes beside its status (their schema is each key's own: the
/// rule's schema takes the properties, never `required`).
#[derive(Debug, Default, schemars::JsonSchema)]
pub struct StatusOptions {
    /// `retry_after: 2s`: sent as `retry-after` (and `retry-after-ms` on OpenAI); or drawn for
    /// each answer from a distribution, `{ uniform: [1s, 5s] }` (also `normal`, `pareto`).
    #[schemars(with = "RawLatency")]
    pub retry_after: Option<Spanned<RawLatency>>,
    /// `quota: true`, with `status: 429` on OpenAI: the `insufficient_quota` kind.
    #[schemars(with = "bool")]
    pub quota: Option<Spanned<bool>>,
    /// `should_retry: false`: sent as `x-should-retry`.
    #[schemars(with = "bool")]
    pub should_retry: Option<Spanned<bool>>,
}

/// Responds with an error status in the upstream's own format.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusFault {
    pub status: u16,
    pub family: ApiFamily,
    /// Sent as `retry-after` (and, for OpenAI 429s, `retry-after-ms`) when set: fixed, or drawn
    /// for each answer from the decision's seeded generator, so a seed replays the same waits.
    pub retry_after: Option<DelayDistribution>,
    /// OpenAI 429 of the `insufficient_quota` kind (billing, not load: retrying cannot help).
    pub quota: bool,
    /// Sent as `x-should-retry`, which overrides the SDKs' own rule.
    pub should_retry: Option<bool>,
}

impl Fault for StatusFault {
    const NAME: &'static str = "status";
    const EXAMPLE: &'static str = "`status: 429`";
    type Raw = u16;
    type Options = StatusOptions;
    const OPTION_KEYS: &'static [&'static str] = &["retry_after", "quota", "should_retry"];

    fn read_option<'de, A: MapAccess<'de>>(
        key: &str,
        map: &mut A,
        options: &mut StatusOptions,
    ) -> Result<(), A::Error> {
        match key {
            "retry_after" => options.retry_after = map.next_value()?,
            "quota" => options.quota = map.next_value()?,
            _ => options.should_retry = map.next_value()?,
        }
        Ok(())
    }

    fn options_given(options: &StatusOptions) -> Vec<(&'static str, Location)> {
        let retry_after = options.retry_after.as_ref().map(|r| ("retry_after", r.referenced));
        let quota = options.quota.as_ref().map(|q| ("quota", q.referenced));
        let should_retry = options.should_retry.as_ref().map(|s| ("should_retry", s.referenced));
        [retry_after, quota, should_retry].into_iter().flatten().collect()
    }

    fn check(status: &Spanned<u16>, options: &StatusOptions, context: &FaultContext) -> Checked<Self> {
        let family = context.family;
        let supported = supported_statuses(family);
        if !supported.contains(&status.value) {
            let list: Vec<String> = supported.iter().map(u16::to_string).collect();
            let message = format!(
                "unsupported status {} for an {family} upstream; expected one of {}",
                status.value,
                list.join(", ")
            );
            return Err(Located::at(&status.referenced, message));
        }
        if let (400, Some(wait)) = (status.value, &options.retry_after) {
            let message = "`retry_after` does not go with `status: 400`: a 400 is not retried, so no wait is sent";
            return Err(Located::at(&wait.referenced, message));
        }
        let quota = match &options.quota {
            Some(quota) if quota.value && (status.value != 429 || family != ApiFamily::OpenAi) => {
                return Err(Located::at(
                    &quota.referenced,
                    "`quota: true` goes with `status: 429` on an openai upstream",
                ));
            }
            Some(quota) => quota.value,
            None => false,
        };
        let retry_after = match &options.retry_after {
            Some(wait) => Some(DelayDistribution::check_key(wait, "retry_after")?),
            None => None,
        };
        Ok(StatusFault {
            status: status.value,
            family,
            retry_after,
            quota,
            should_retry: options.should_retry.as_ref().map(|s| s.value),
        })
    }

    fn at_speed(&self, speed: Speed) -> Self {
        StatusFault { retry_after: self.retry_after.map(|wait| wait.at_speed(speed)), ..self.clone() }
    }

    fn on_request(&self, request: &RequestView<'_>, rng: &mut StdRng) -> Decision {
        let retry_after = self.retry_after.map(|wait| wait.sample(rng));
        let response = self.response(request.model, retry_after);
        Decision::Respond(match self.should_retry {
            Some(retry) => response.set_header("x-should-retry", retry.to_string()),
            None => response,
        })
    }

    fn label(&self) -> String {
        format!("status:{}", self.status)
    }
}

impl StatusFault {
    /// The answer, asking for `retry_after` (this answer's draw).
    fn response(&self, model: Option<&str>, retry_after: Option<Duration>) -> CannedResponse {
        match (self.family, self.status) {
            (ApiFamily::OpenAi, 429) if self.quota => openai::error(
                429,
                "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
                "insufficient_quota",
                None,
                Some("insufficient_quota"),
            ),
            (family, 200) => {
                let mut error = failure(family, 500, model, retry_after);
                error.status = 200;
                error
            }
            (family, status) => failure(family, status, model, retry_after),
        }
    }
}

/// The family's error response for `status`, asking for `retry_after`.
fn failure(family: ApiFamily, status: u16, model: Option<&str>, retry_after: Option<Duration>) -> CannedResponse {
        let limits = LimitHeaders {
            reset_requests: retry_after.unwrap_or(INJECTED_LIMITS.reset_requests),
            ..INJECTED_LIMITS
        };
        match (family, status) {
            (ApiFamily::OpenAi, 400) => openai::error(
                400,
                "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.",
                "invalid_request_error",
                Some("messages"),
                Some("context_length_exceeded"),
            ),
            (ApiFamily::Anthropic, 400) => anthropic::error(
                400,
                anthropic::error_type(400),
                "prompt is too long: 208310 tokens > 200000 maximum",
            ),
            (ApiFamily::OpenAi, 429) => openai::limit_headers(
                openai::rate_limited(&openai::RateLimitDetail { model, retry_after, ..Default::default() }),
                &limits,
            ),
            (ApiFamily::OpenAi, status) => {
                let response = match status {
                    408 => openai::error(408, "Request timed out.", "timeout", None, None),
                    504 => openai::error(504, "Gateway timeout.", "server_error", None, None),
                    _ => openai::server_error(status),
                };
                match retry_after {
                    Some(wait) => openai::with_retry_after(response, wait),
                    None => response,
                }
            }
            (ApiFamily::Azure, 429) => {
                azure::limit_headers(azure::rate_limited(false, retry_after.unwrap_or(Duration::from_secs(1))), &limits)
            }
            (ApiFamily::Azure, status) => {
                let response = match status {
                    503 => azure::server_error(503),
                    // A model's own errors pass through in OpenAI's shape, with Azure's headers.
                    _ => azure::from_openai(failure(ApiFamily::OpenAi, status, model, None)),
                };
                match retry_after {
                    Some(wait) => azure::with_retry_after(response, wait),
                    None => response,
                }
            }
            (ApiFamily::Gemini, 400) => gemini::error(
                400,
                "The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).",
            ),
            // Google's waits are in the body (`RetryInfo`), never a header.
            (ApiFamily::Gemini, 429) => gemini::rate_limited(retry_after),
            (ApiFamily::Gemini, status) => gemini::server_error(status),
            (ApiFamily::Anthropic, 429) => {
                let message = "Number of requests has exceeded your per-minute rate limit (https://docs.anthropic.com/en/api/rate-limits); see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.";
                anthropic::limit_headers(anthropic::rate_limited(message, retry_after), &limits, SystemTime::now())
            }
            (ApiFamily::Anthropic, status) => {
                anthropic::with_retry_after(anthropic::server_error(status), retry_after)
            }
            (ApiFamily::Bedrock, 429) => bedrock::throttled(retry_after),
            // The same `retry-after` a 429's carries, when the fault asks for one.
            (ApiFamily::Bedrock, status) => match retry_after {
                Some(wait) => bedrock::failure(status).with_header("retry-after", bedrock::whole_seconds(wait)),
                None => bedrock::failure(status),
            },
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: RequestView<'static> = RequestView {
        method: "POST",
        path: "/v1/chat/completions",
        model: Some("gpt-4o-mini"),
        stream: None,
        key: None,
        tokens: None,
        headers: None,
        draw_key: None,
    };

    fn respond(status: u16, family: ApiFamily, retry_after: Option<Duration>) -> CannedResponse {
        match fault(status, family, retry_after).on_request(&REQUEST, &mut rng()) {
            Decision::Respond(response) => response,
            other => panic!("expected a response, got {other:?}"),
        }
    }

    fn rng() -> StdRng {
        rand::SeedableRng::seed_from_u64(1)
    }

    fn header<'a>(response: &'a CannedResponse, name: &str) -> Option<&'a str> {
        response.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn an_openai_429_names_the_model_and_the_wait() {
        let response = respond(429, ApiFamily::OpenAi, Some(Duration::from_secs(60)));
        assert_eq!(response.status, 429);
        assert_eq!(header(&response, "retry-after"), Some("60"));
        assert!(String::from_utf8_lossy(&response.body).contains("gpt-4o-mini"));
    }

    #[test]
    fn a_503_has_no_retry_after_unless_asked() {
        let response = respond(503, ApiFamily::OpenAi, None);
        assert_eq!(response.status, 503);
        assert_eq!(header(&response, "retry-after"), None);
        let with_wait = respond(503, ApiFamily::OpenAi, Some(Duration::from_millis(1500)));
        assert_eq!(header(&with_wait, "retry-after"), Some("2"));
        assert_eq!(header(&with_wait, "retry-after-ms"), Some("1500"));
    }

    #[test]
    fn quota_429_is_insufficient_quota_with_no_retry_after() {
        let fault =
            StatusFault { quota: true, ..fault(429, ApiFamily::OpenAi, Some(Duration::from_secs(5))) };
        let Decision::Respond(response) = fault.on_request(&REQUEST, &mut rng()) else { panic!("responds") };
        let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["error"]["code"], "insufficient_quota");
        assert_eq!(header(&response, "retry-after"), None);
    }

    #[test]
    fn a_200_carries_an_error_body_and_should_retry_is_sent_when_asked() {
        let fault = StatusFault { should_retry: Some(false), ..fault(200, ApiFamily::OpenAi, None) };
        let Decision::Respond(response) = fault.on_request(&REQUEST, &mut rng()) else { panic!("responds") };
        assert_eq!(response.status, 200);
        let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["error"]["type"], "server_error");
        assert_eq!(header(&response, "x-should-retry"), Some("false"));
    }

    fn fault(status: u16, family: ApiFamily, retry_after: Option<Duration>) -> StatusFault {
        let retry_after = retry_after.map(DelayDistribution::Fixed);
        StatusFault { status, family, retry_after, quota: false, should_retry: None }
    }

    #[test]
    fn a_drawn_retry_after_differs_per_answer_and_replays_from_the_seed() {
        let one_to_five = DelayDistribution::Uniform { min: Duration::from_secs(1), max: Duration::from_secs(5) };
        let fault = StatusFault { retry_after: Some(one_to_five), ..fault(429, ApiFamily::OpenAi, None) };
        let asks = |seed: u64| -> Vec<u64> {
            let mut rng: StdRng = rand::SeedableRng::seed_from_u64(seed);
            (0..50)
                .map(|_| {
                    let Decision::Respond(answer) = fault.on_request(&REQUEST, &mut rng) else { panic!("responds") };
                    header(&answer, "retry-after-ms").expect("asks in ms").parse().expect("a number")
                })
                .collect()
        };
        let drawn = asks(7);
        assert_eq!(drawn, asks(7), "the same seed draws the same waits");
        assert_ne!(drawn, asks(8));
        assert!(drawn.iter().all(|ms| (1_000..=5_000).contains(ms)), "{drawn:?}");
        let spread = drawn.iter().max().unwrap() - drawn.iter().min().unwrap();
        assert!(spread > 2_000, "50 draws over [1 s, 5 s] spread wide: {drawn:?}");
        let sixty = Speed::new(60.0).unwrap();
        assert_eq!(fault.at_speed(sixty).retry_after, Some(one_to_five.at_speed(sixty)), "the draw scales");
    }

    #[test]
    fn should_retry_replaces_the_familys_own_header() {
        let fault = StatusFault { should_retry: Some(false), ..fault(529, ApiFamily::Anthropic, None) };
        let Decision::Respond(response) = fault.on_request(&REQUEST, &mut rng()) else { panic!("responds") };
        let values: Vec<&str> = response
            .headers
            .iter()
            .filter(|(name, _)| *name == "x-should-retry")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(values, ["false"], "one value, or httpx joins them and the SDK ignores both");
    }

    #[test]
    fn anthropic_faults_use_anthropic_bodies() {
        let overloaded = respond(529, ApiFamily::Anthropic, None);
        let body: serde_json::Value = serde_json::from_slice(&overloaded.body).unwrap();
        assert_eq!(body["error"]["type"], "overloaded_error");
        let limited = respond(429, ApiFamily::Anthropic, Some(Duration::from_secs(3)));
        let body: serde_json::Value = serde_json::from_slice(&limited.body).unwrap();
        assert_eq!(body["error"]["type"], "rate_limit_error");
        assert_eq!(header(&limited, "retry-after"), Some("3"));
        assert_eq!(header(&limited, "x-should-retry"), Some("true"));
    }

    #[test]
    fn a_400_is_the_familys_context_window_error() {
        let openai = respond(400, ApiFamily::OpenAi, None);
        let body: serde_json::Value = serde_json::from_slice(&openai.body).unwrap();
        assert_eq!((openai.status, &body["error"]["code"]), (400, &"context_length_exceeded".into()));
        assert_eq!(body["error"]["param"], "messages");
        let anthropic = respond(400, ApiFamily::Anthropic, None);
        let body: serde_json::Value = serde_json::from_slice(&anthropic.body).unwrap();
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert!(body["error"]["message"].as_str().unwrap().starts_with("prompt is too long"));
    }

    #[test]
    fn timeouts_408_and_504_are_answered_in_both_families() {
        for family in [ApiFamily::OpenAi, ApiFamily::Anthropic] {
            for status in [408, 504] {
                assert!(supported_statuses(family).contains(&status));
                let response = respond(status, family, None);
                assert_eq!(response.status, status);
                let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
                assert!(body["error"]["message"].is_string(), "{body}");
            }
        }
    }

    #[test]
    fn an_injected_429_carries_the_providers_rate_limit_headers() {
        let openai = respond(429, ApiFamily::OpenAi, Some(Duration::from_secs(20)));
        assert_eq!(header(&openai, "x-ratelimit-remaining-requests"), Some("0"));
        assert_eq!(header(&openai, "x-ratelimit-limit-requests"), Some("500"));
        assert_eq!(header(&openai, "x-ratelimit-reset-requests"), Some("20s"));
        assert!(header(&openai, "x-ratelimit-reset-tokens").is_some());
        let anthropic = respond(429, ApiFamily::Anthropic, None);
        assert_eq!(header(&anthropic, "anthropic-ratelimit-requests-remaining"), Some("0"));
        assert!(header(&anthropic, "anthropic-ratelimit-requests-reset").is_some_and(|at| at.ends_with('Z')));
        let quota = StatusFault { quota: true, ..fault(429, ApiFamily::OpenAi, None) };
        let Decision::Respond(quota) = quota.on_request(&REQUEST, &mut rng()) else { panic!("responds") };
        assert_eq!(header(&quota, "x-ratelimit-remaining-requests"), None, "a quota is no rate limit");
    }

    #[test]
    fn bedrock_faults_name_the_exception_in_x_amzn_errortype() {
        let throttled = respond(429, ApiFamily::Bedrock, Some(Duration::from_secs(2)));
        let kind = header(&throttled, "x-amzn-errortype").and_then(|v| v.split(':').next());
        assert_eq!((throttled.status, kind), (429, Some("ThrottlingException")));
        assert_eq!(header(&throttled, "retry-after"), Some("2"));
        let body: serde_json::Value = serde_json::from_slice(&throttled.body).unwrap();
        assert!(body["message"].is_string(), "{body}");
        let unavailable = respond(503, ApiFamily::Bedrock, None);
        let kind = header(&unavailable, "x-amzn-errortype").and_then(|v| v.split(':').next());
        assert_eq!(kind, Some("ServiceUnavailableException"));
        assert_eq!(header(&unavailable, "retry-after"), None);
        assert!(!supported_statuses(ApiFamily::Bedrock).contains(&200), "Bedrock never errs with a 2xx");
    }

    #[test]
    fn azure_answers_its_platform_errors_in_its_shape_and_model_errors_in_openai_s() {
        let limited = respond(429, ApiFamily::Azure, Some(Duration::from_millis(2_500)));
        let body: serde_json::Value = serde_json::from_slice(&limited.body).unwrap();
        assert_eq!(body["error"]["code"], "429");
        assert_eq!(header(&limited, "retry-after"), Some("3"));
        assert_eq!(header(&limited, "retry-after-ms"), Some("2500"));
        assert_eq!(header(&limited, "x-ms-retry-after-ms"), Some("2500"));
        assert_eq!(header(&limited, "x-ratelimit-remaining-requests"), Some("0"));
        let context = respond(400, ApiFamily::Azure, None);
        let body: serde_json::Value = serde_json::from_slice(&context.body).unwrap();
        assert_eq!(body["error"]["code"], "context_length_exceeded");
        assert!(header(&context, "apim-request-id").is_some());
        let unavailable = respond(503, ApiFamily::Azure, Some(Duration::from_secs(1)));
        let body: serde_json::Value = serde_json::from_slice(&unavailable.body).unwrap();
        assert_eq!(body["error"]["code"], "ServiceUnavailable");
        assert_eq!(header(&unavailable, "retry-after-ms"), Some("1000"));
    }

    #[test]
    fn gemini_answers_in_google_s_shape_with_the_wait_in_the_body() {
        let limited = respond(429, ApiFamily::Gemini, Some(Duration::from_secs(3)));
        let body: serde_json::Value = serde_json::from_slice(&limited.body).unwrap();
        assert_eq!(body["error"]["status"], "RESOURCE_EXHAUSTED");
        assert_eq!(body["error"]["details"][0]["retryDelay"], "3s");
        assert_eq!(header(&limited, "retry-after"), None);
        let unavailable = respond(503, ApiFamily::Gemini, None);
        let body: serde_json::Value = serde_json::from_slice(&unavailable.body).unwrap();
        assert_eq!((unavailable.status, &body["error"]["status"]), (503, &"UNAVAILABLE".into()));
        assert!(!supported_statuses(ApiFamily::Gemini).contains(&529));
    }
}
