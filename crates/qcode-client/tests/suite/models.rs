//! `list_models`: the provider's model ids, and its errors.

use qcode_client::ClientError;
use qcode_test_support::mock_model::{MockServer, Reply};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::support::{KEY, client, creds};

#[tokio::test]
async fn lists_model_ids() {
    let server = MockServer::start();
    server.set_models(&["qwen3-coder-plus", "qwen3-max"]);
    let models = client()
        .list_models(&*creds(&server), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(models, vec!["qwen3-coder-plus", "qwen3-max"]);
    let requests = server.listing_requests();
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, "/v1/models");
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
}

#[tokio::test]
async fn model_list_errors_are_classified() {
    let server = MockServer::start();
    server.enqueue_models(Reply::error(401, "bad key", "invalid_api_key"));
    let error = client()
        .list_models(&*creds(&server), CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(
        error,
        ClientError::Unauthorized {
            status: 401,
            message: "bad key".into()
        }
    );

    server.enqueue_models(Reply::status(200).json_body(json!({"unexpected": true})));
    let error = client()
        .list_models(&*creds(&server), CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(error, ClientError::Malformed { .. }), "{error:?}");
}
