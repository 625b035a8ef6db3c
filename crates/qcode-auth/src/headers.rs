//! Headers DashScope and the Qwen portal expect (prompt caching, client identification), and the
//! test for when they apply: Qwen OAuth, or a base URL on `*.dashscope*.aliyuncs.com`.
//! The `Authorization` header is the client's business (it holds the secret).

use qcode_protocol::AuthKind;

/// `qcode/<version> (<os>; <arch>)`.
pub fn user_agent(version: &str) -> String {
    format!(
        "qcode/{version} ({}; {})",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// The DashScope header set for `auth`.
pub fn dashscope_headers(auth: AuthKind, version: &str) -> Vec<(String, String)> {
    let ua = user_agent(version);
    let auth_type = match auth {
        AuthKind::QwenOauth => "qwen-oauth",
        AuthKind::Openai => "openai",
    };
    vec![
        ("User-Agent".to_string(), ua.clone()),
        ("X-DashScope-CacheControl".to_string(), "enable".to_string()),
        ("X-DashScope-UserAgent".to_string(), ua),
        ("X-DashScope-AuthType".to_string(), auth_type.to_string()),
    ]
}

/// Whether `url`'s host is `dashscope*.aliyuncs.com` or a subdomain of one
/// (e.g. `dashscope.aliyuncs.com`, `dashscope-intl.aliyuncs.com`, `coding.dashscope.aliyuncs.com`).
pub fn is_dashscope_url(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url.trim()) else {
        return false;
    };
    let Some(host) = parsed.host_str() else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    let Some(rest) = host.strip_suffix(".aliyuncs.com") else {
        return false;
    };
    rest.rsplit('.')
        .next()
        .is_some_and(|label| label.starts_with("dashscope"))
}

/// Whether requests for this method and base URL carry [`dashscope_headers`].
pub fn wants_dashscope_headers(auth: AuthKind, base_url: &str) -> bool {
    match auth {
        AuthKind::QwenOauth => true,
        AuthKind::Openai => is_dashscope_url(base_url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashscope_hosts() {
        for yes in [
            "https://dashscope.aliyuncs.com/compatible-mode/v1",
            "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
            "https://coding.dashscope.aliyuncs.com/v1",
            "HTTPS://DashScope.AliyunCS.com/v1",
        ] {
            assert!(is_dashscope_url(yes), "{yes}");
        }
        for no in [
            "https://api.openai.com/v1",
            "https://evil-dashscope.aliyuncs.com/v1",
            "https://dashscope.aliyuncs.com.evil.test/v1",
            "https://aliyuncs.com/v1",
            "not a url",
            "https://portal.qwen.ai/v1",
        ] {
            assert!(!is_dashscope_url(no), "{no}");
        }
        assert!(wants_dashscope_headers(
            AuthKind::QwenOauth,
            "https://portal.qwen.ai/v1"
        ));
        assert!(!wants_dashscope_headers(
            AuthKind::Openai,
            "https://api.openai.com/v1"
        ));
    }

    #[test]
    fn header_values() {
        let h = dashscope_headers(AuthKind::QwenOauth, "1.2.3");
        let ua = format!(
            "qcode/1.2.3 ({}; {})",
            std::env::consts::OS,
            std::env::consts::ARCH
        );
        assert_eq!(
            h,
            vec![
                ("User-Agent".to_string(), ua.clone()),
                ("X-DashScope-CacheControl".to_string(), "enable".to_string()),
                ("X-DashScope-UserAgent".to_string(), ua),
                ("X-DashScope-AuthType".to_string(), "qwen-oauth".to_string()),
            ]
        );
        assert_eq!(dashscope_headers(AuthKind::Openai, "1")[3].1, "openai");
    }
}
