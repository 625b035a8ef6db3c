//! `web_fetch`: fetches an http(s) URL and returns its text (HTML converted to plain text /
//! markdown), with the model's `prompt` in the header. Flags hosts that are, or resolve to,
//! loopback / private / link-local addresses, and re-checks every redirect hop.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;
use url::{Host, Url};

use qcode_protocol::ApprovalDetails;

use crate::context::ToolContext;
use crate::error::ToolError;
use crate::registry::{Facts, ToolDef, ToolId, ToolKind, ToolResult, typed};
use crate::schema::{Param, Presence, Ty};
use crate::textfile::{human_size, truncate_at_char};

/// Most bytes read from a response body.
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Most characters of content returned to the model.
pub const MAX_OUTPUT_CHARS: usize = 100_000;
/// Most redirects followed.
pub const MAX_REDIRECTS: usize = 5;
const DNS_TIMEOUT: Duration = Duration::from_secs(3);

pub(crate) const DEF: ToolDef = ToolDef {
    id: ToolId::WebFetch,
    name: "web_fetch",
    kind: ToolKind::Fetch,
    description: "Fetches a web page or document from an http:// or https:// URL and returns \
        its text: HTML is converted to readable plain text (markdown-like), plain text and JSON \
        are returned as they are. At most 2 MB are downloaded and 100,000 characters returned. \
        `prompt` says what you are looking for on the page; it is repeated above the content \
        so that you can extract the relevant part. Redirects are followed (up to 5). Use it for \
        documentation, issues and other public pages the user refers to; the user may be asked \
        to approve the fetch, and addresses on the local or private network always need \
        explicit approval.",
    params: &[
        Param {
            name: "url",
            ty: Ty::Str,
            presence: Presence::Required,
            description: "The http:// or https:// URL to fetch.",
        },
        Param {
            name: "prompt",
            ty: Ty::Str,
            presence: Presence::Required,
            description: "What to look for or extract from the page.",
        },
    ],
};

#[derive(Debug, Deserialize)]
struct Args {
    url: String,
    prompt: String,
}

#[derive(Debug)]
pub(crate) struct Plan {
    url: Url,
    prompt: String,
    /// The user was (or will be) asked explicitly because the target is on a private network.
    private_network: bool,
}

fn parse_http_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|e| {
        format!(
            "`{raw}` is not a valid URL ({e}); pass a full URL such as https://example.com/page"
        )
    })?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(format!(
                "only http:// and https:// URLs can be fetched, not {other}://"
            ));
        }
    }
    if url.host().is_none() {
        return Err(format!("`{raw}` has no host"));
    }
    Ok(url)
}

pub(crate) async fn prepare(args: Map<String, Value>) -> Result<(Facts, Plan), ToolError> {
    let args: Args = typed(DEF.name, args)?;
    let url = parse_http_url(&args.url).map_err(|m| ToolError::invalid(DEF.name, m))?;
    let private_network = targets_private_network(&url).await;
    let host = url.host_str().unwrap_or_default().to_string();
    let facts = Facts {
        summary: format!("Fetch {url}"),
        outside_workspace: false,
        private_network,
        details: ApprovalDetails::Fetch {
            url: url.to_string(),
        },
        permission_key: format!("{} {host}", DEF.name),
        escapes_sandbox: false,
    };
    Ok((
        facts,
        Plan {
            url,
            prompt: args.prompt,
            private_network,
        },
    ))
}

/// True when an address is not on the public internet: loopback, private (RFC 1918, IPv6
/// unique local), link-local (incl. cloud metadata 169.254.169.254), carrier-grade NAT,
/// unspecified, broadcast or multicast; for IPv6 also the deprecated site-local `fec0::/10`,
/// local-use NAT64 `64:ff9b:1::/48`, and every form that carries a non-public IPv4 address
/// (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, IPv4-translated
/// `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:AABB:CCDD::`).
pub fn is_non_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_non_public_v4(v4),
        IpAddr::V6(v6) => {
            if embedded_ipv4(v6).is_some_and(is_non_public_v4) {
                return true;
            }
            let seg = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (seg[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (seg[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
                || seg[..3] == [0x64, 0xff9b, 1] // local-use NAT64 64:ff9b:1::/48
        }
    }
}

/// The IPv4 address an IPv6 address stands for, in the forms a host or gateway may turn into
/// an IPv4 connection.
fn embedded_ipv4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let seg = v6.segments();
    let o = v6.octets();
    let low = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    match seg {
        [0, 0, 0, 0, 0, 0xffff, _, _] // IPv4-mapped
        | [0, 0, 0, 0, 0, 0, _, _] // IPv4-compatible (deprecated)
        | [0, 0, 0, 0, 0xffff, 0, _, _] // IPv4-translated (SIIT)
        | [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low), // NAT64 well-known prefix
        [0x2002, ..] => Some(Ipv4Addr::new(o[2], o[3], o[4], o[5])), // 6to4
        _ => None,
    }
}

fn is_non_public_v4(v4: Ipv4Addr) -> bool {
    let [a, b, ..] = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT 100.64.0.0/10
}

/// Whether the URL's host is, or resolves to, a non-public address. Names under `localhost`,
/// `.local`, `.internal`, `.lan` and `.home.arpa` count as private without a lookup; a name
/// that does not resolve counts as public (the fetch itself will then fail).
async fn targets_private_network(url: &Url) -> bool {
    match url.host() {
        None => false,
        Some(Host::Ipv4(ip)) => is_non_public(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => is_non_public(IpAddr::V6(ip)),
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            const LOCAL_SUFFIXES: &[&str] =
                &[".localhost", ".local", ".internal", ".lan", ".home.arpa"];
            if name == "localhost" || LOCAL_SUFFIXES.iter().any(|s| name.ends_with(s)) {
                return true;
            }
            let port = url.port_or_known_default().unwrap_or(80);
            match tokio::time::timeout(DNS_TIMEOUT, tokio::net::lookup_host((name.as_str(), port)))
                .await
            {
                Ok(Ok(addrs)) => addrs.into_iter().any(|a| is_non_public(a.ip())),
                Ok(Err(_)) | Err(_) => false,
            }
        }
    }
}

pub(crate) async fn execute(
    plan: Plan,
    ctx: &ToolContext,
    cancel: &CancellationToken,
) -> ToolResult {
    tokio::select! {
        r = fetch(&plan, ctx) => match r {
            Ok(r) | Err(r) => r,
        },
        () = cancel.cancelled() => ToolResult::cancelled("web_fetch: cancelled"),
    }
}

async fn fetch(plan: &Plan, ctx: &ToolContext) -> Result<ToolResult, ToolResult> {
    let err = |m: String| ToolResult::error(format!("web_fetch: {m}"));
    let mut url = plan.url.clone();
    let mut hops = 0;
    let response = loop {
        if !plan.private_network && targets_private_network(&url).await {
            return Err(err(format!(
                "{url} is on a local or private network; it was not fetched. Ask the user to \
                 fetch it, or use a public URL"
            )));
        }
        let client = ctx
            .http
            .get()
            .map_err(|e| err(format!("cannot set up HTTP for web_fetch: {e}")))?;
        let resp = client
            .get(url.clone())
            .header(
                reqwest::header::ACCEPT,
                "text/html, text/markdown, text/plain, application/json;q=0.9, */*;q=0.5",
            )
            .send()
            .await
            .map_err(|e| err(format!("could not fetch {url}: {}", error_chain(&e))))?;
        if !resp.status().is_redirection() {
            break resp;
        }
        let Some(location) = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
        else {
            break resp;
        };
        hops += 1;
        if hops > MAX_REDIRECTS {
            return Err(err(format!(
                "{} redirected more than {MAX_REDIRECTS} times",
                plan.url
            )));
        }
        let next = url.join(location).map_err(|e| {
            err(format!(
                "{url} redirected to an invalid location `{location}`: {e}"
            ))
        })?;
        url = parse_http_url(next.as_str()).map_err(|m| err(format!("{url} redirected: {m}")))?;
    };

    let status = response.status();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (body, cut) = read_capped(response).await.map_err(|e| {
        err(format!(
            "could not read the response from {url}: {}",
            error_chain(&e)
        ))
    })?;
    let kind = classify(&content_type, &body);
    let text = match kind {
        Kind::Html => html_to_text(&body),
        Kind::Text => String::from_utf8_lossy(&body).into_owned(),
        Kind::Other => {
            return Err(err(format!(
                "{url} returned `{content_type}` content ({}), which is not text; web_fetch \
                 only returns text pages",
                human_size(body.len() as u64)
            )));
        }
    };
    if !status.is_success() {
        let snippet = truncate_at_char(text.trim(), 1000);
        return Err(err(format!("{url} answered HTTP {status}.\n{snippet}")));
    }
    let total_chars = text.chars().count();
    let shown = truncate_at_char(&text, MAX_OUTPUT_CHARS);
    let mut notes = Vec::new();
    if cut {
        notes.push(format!(
            "only the first {} of the body were downloaded",
            human_size(MAX_BODY_BYTES as u64)
        ));
    }
    if shown.len() < text.len() {
        notes.push(format!(
            "showing the first {} of {total_chars} characters",
            shown.chars().count()
        ));
    }
    let converted = match kind {
        Kind::Html => ", converted from HTML",
        Kind::Text | Kind::Other => "",
    };
    let ctype = if content_type.is_empty() {
        "unknown type"
    } else {
        content_type.as_str()
    };
    let mut out = format!(
        "Fetched {url} (HTTP {}, {ctype}{converted}).\nLooking for: {}\n\n{}",
        status.as_u16(),
        plan.prompt,
        shown.trim_end()
    );
    if !notes.is_empty() {
        out.push_str(&format!("\n\n[{}]", notes.join("; ")));
    }
    Ok(ToolResult::success(out))
}

/// How a body is turned into text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Html,
    Text,
    Other,
}

fn classify(content_type: &str, body: &[u8]) -> Kind {
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if mime == "text/html" || mime == "application/xhtml+xml" {
        return Kind::Html;
    }
    if mime.starts_with("text/")
        || mime == "application/json"
        || mime.ends_with("+json")
        || mime.ends_with("+xml")
        || mime == "application/xml"
        || mime == "application/javascript"
        || mime == "application/x-ndjson"
        || mime == "application/toml"
        || mime == "application/yaml"
        || mime == "application/x-yaml"
    {
        return Kind::Text;
    }
    if mime.is_empty() || mime == "application/octet-stream" {
        let head = String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
        let head = head.trim_start();
        if head.starts_with("<!doctype html") || head.starts_with("<html") {
            return Kind::Html;
        }
        if !body[..body.len().min(8192)].contains(&0) && std::str::from_utf8(body).is_ok() {
            return Kind::Text;
        }
    }
    Kind::Other
}

fn html_to_text(body: &[u8]) -> String {
    match html2text::from_read(body, 120) {
        Ok(t) => t,
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    }
}

async fn read_capped(mut response: reqwest::Response) -> reqwest::Result<(Vec<u8>, bool)> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = MAX_BODY_BYTES - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

/// A reqwest error with its sources ("error sending request: connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let msg = inner.to_string();
        if !s.contains(&msg) {
            s.push_str(": ");
            s.push_str(&msg);
        }
        src = inner.source();
    }
    s
}
