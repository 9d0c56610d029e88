//! The session cookie: `HttpOnly`, `SameSite=Strict`, `Path` the
//! dashboard's base path (so it is never sent to the API), and `Secure`
//! when the server speaks TLS, then named with the `__Secure-` prefix so
//! that a plain-HTTP page cannot set one the browser would send.

use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};

use crate::config::DashboardConfig;

const NAME: &str = "exhibit_session";
const SECURE_NAME: &str = "__Secure-exhibit_session";

/// The cookie's name under this configuration.
pub fn name(config: &DashboardConfig) -> &'static str {
    if config.tls { SECURE_NAME } else { NAME }
}

/// Every value the request sends for the session cookie (a browser may
/// send more than one when another path or domain set one too).
pub fn session_values(config: &DashboardConfig, headers: &HeaderMap) -> Vec<String> {
    let name = name(config);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .filter(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
        .collect()
}

fn build(config: &DashboardConfig, value: String) -> Cookie<'static> {
    Cookie::build((name(config), value))
        .path(config.base_path.clone())
        .http_only(true)
        .secure(config.tls)
        .same_site(SameSite::Strict)
        .build()
}

/// `Set-Cookie` for a session; no `Max-Age`, so it ends with the browser
/// (the server ends it sooner by its own limits).
pub fn set(config: &DashboardConfig, value: &str) -> HeaderValue {
    header_value(build(config, value.to_owned()))
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear(config: &DashboardConfig) -> HeaderValue {
    let mut cookie = build(config, String::new());
    cookie.make_removal();
    header_value(cookie)
}

fn header_value(cookie: Cookie<'static>) -> HeaderValue {
    // The name, a hex value and a path from a validated config: always a
    // valid header value.
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_follow_the_config() {
        let plain = DashboardConfig::default();
        assert_eq!(set(&plain, "abc"), "exhibit_session=abc; HttpOnly; SameSite=Strict; Path=/dashboard");

        let tls = DashboardConfig { tls: true, base_path: "/ui".into(), ..DashboardConfig::default() };
        assert_eq!(set(&tls, "abc"), "__Secure-exhibit_session=abc; HttpOnly; SameSite=Strict; Secure; Path=/ui");
        let cleared = clear(&tls);
        let cleared = cleared.to_str().unwrap();
        assert!(cleared.starts_with("__Secure-exhibit_session=; ") && cleared.contains("Max-Age=0"), "{cleared}");
    }

    #[test]
    fn every_session_value_is_read_and_others_ignored() {
        let config = DashboardConfig::default();
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; exhibit_session=one; b=2"));
        headers.append(header::COOKIE, HeaderValue::from_static("exhibit_session=two; ;;=; bad"));
        assert_eq!(session_values(&config, &headers), ["one", "two"]);
    }
}
