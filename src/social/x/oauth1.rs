//! OAuth 1.0a request signing (HMAC-SHA1) for the X API, as RFC 5849 and
//! X's "Creating a signature" / "Authorizing a request" pages describe it.
//!
//! Owns the signature base string, the signature and the `Authorization`
//! header. Pure apart from `nonce` (randomness): it must not send requests,
//! read the clock or hold credentials beyond one call. JSON bodies are not
//! signed (OAuth 1.0a signs only form-encoded bodies), so callers pass their
//! form parameters explicitly and nothing else.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha1::Sha1;

/// Everything but RFC 3986's unreserved characters (ALPHA DIGIT `-` `.` `_` `~`)
/// is encoded; RFC 5849 §3.6 requires exactly this set, with upper-case hex.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The four secrets of one app acting as one account.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    pub consumer_key: &'a str,
    pub consumer_secret: &'a str,
    pub token: &'a str,
    pub token_secret: &'a str,
}

// Credentials end up in logs through `{:?}` on whatever holds them; only the
// public key and token are worth seeing there.
impl std::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &"<redacted>")
            .field("token", &self.token)
            .field("token_secret", &"<redacted>")
            .finish()
    }
}

/// The `Authorization` header value for a request. `url` may carry a query; `form` are
/// application/x-www-form-urlencoded body params (empty for JSON bodies, which are not signed).
pub fn authorization(
    method: &str,
    url: &url::Url,
    form: &[(String, String)],
    credentials: &Credentials<'_>,
    nonce: &str,
    timestamp: u64,
) -> String {
    let mut oauth: Vec<(String, String)> = [
        ("oauth_consumer_key", credentials.consumer_key),
        ("oauth_nonce", nonce),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", &timestamp.to_string()),
        ("oauth_token", credentials.token),
        ("oauth_version", "1.0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let mut params = oauth.clone();
    params.extend(
        url.query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned())),
    );
    params.extend(form.iter().cloned());
    let base = signature_base_string(method, url, &params);
    oauth.push((
        "oauth_signature".to_owned(),
        signature(&base, credentials.consumer_secret, credentials.token_secret),
    ));
    oauth.sort();
    let fields: Vec<String> = oauth
        .iter()
        .map(|(k, v)| format!("{}=\"{}\"", encode(k), encode(v)))
        .collect();
    format!("OAuth {}", fields.join(", "))
}

/// `METHOD&base-url&parameter-string`, each part percent-encoded. `params` are all the
/// oauth_* parameters plus the query and form parameters, unencoded.
pub fn signature_base_string(method: &str, url: &url::Url, params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> =
        params.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    // Sorted by encoded key, then encoded value (RFC 5849 §3.4.1.3.2).
    encoded.sort();
    let parameters: Vec<String> = encoded.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        encode(&base_url(url)),
        encode(&parameters.join("&"))
    )
}

/// Base64 HMAC-SHA1 of the base string under `consumer_secret&token_secret` (both encoded).
pub fn signature(base: &str, consumer_secret: &str, token_secret: &str) -> String {
    let key = format!("{}&{}", encode(consumer_secret), encode(token_secret));
    let mut mac = match Hmac::new_from_slice(key.as_bytes()) {
        Ok(mac) => mac,
        // HMAC accepts keys of any length.
        Err(_) => return String::new(),
    };
    mac.update(base.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// A fresh `oauth_nonce`: 32 random alphanumerics (X only asks for a unique alphanumeric string).
pub fn nonce() -> String {
    std::iter::repeat_with(fastrand::alphanumeric)
        .take(32)
        .collect()
}

type Hmac = hmac::Hmac<Sha1>;

fn encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// Scheme and host lower-case, default port dropped, no query or fragment
/// (RFC 5849 §3.4.1.2). `Url` already lower-cases and drops default ports for
/// http(s); doing it again keeps the rule visible and covers other schemes.
fn base_url(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!(
        "{}://{host}{port}{}",
        url.scheme().to_ascii_lowercase(),
        url.path()
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    // X's worked example, https://docs.x.com/fundamentals/authentication/oauth-1-0a/creating-a-signature
    // (source: github.com/xdevplatform/docs fundamentals/authentication/oauth-1-0a/creating-a-signature.mdx)
    // and …/authorizing-a-request for the header.
    const CONSUMER_KEY: &str = "xvz1evFS4wEEPTGEFPHBog";
    const CONSUMER_SECRET: &str = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw";
    const TOKEN: &str = "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb";
    const TOKEN_SECRET: &str = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE";
    const NONCE: &str = "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg";
    const TIMESTAMP: u64 = 1_318_622_958;
    const STATUS: &str = "Hello Ladies + Gentlemen, a signed OAuth request!";

    fn credentials() -> Credentials<'static> {
        Credentials {
            consumer_key: CONSUMER_KEY,
            consumer_secret: CONSUMER_SECRET,
            token: TOKEN,
            token_secret: TOKEN_SECRET,
        }
    }

    fn form() -> Vec<(String, String)> {
        vec![("status".to_owned(), STATUS.to_owned())]
    }

    /// The page's parameter table: the request's two parameters and the oauth_* ones.
    fn documented_params() -> Vec<(String, String)> {
        [
            ("status", STATUS),
            ("include_entities", "true"),
            ("oauth_consumer_key", CONSUMER_KEY),
            ("oauth_nonce", NONCE),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1318622958"),
            ("oauth_token", TOKEN),
            ("oauth_version", "1.0"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// The documented base string, for a given percent-encoded base URL.
    fn documented_base(encoded_url: &str) -> String {
        format!(
            "POST&{encoded_url}&include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521"
        )
    }

    #[test]
    fn xs_documented_example_base_string_and_signature() {
        // The current page (api.x.com) prints this base string and the signature
        // Ls93hJiZbQ3akF3HF3x1Bz8/zU4= (HMAC bytes 2E CF 77 84 … 3F CD 4E).
        let url = url::Url::parse("https://api.x.com/1.1/statuses/update.json").unwrap();
        let base = signature_base_string("POST", &url, &documented_params());
        assert_eq!(
            base,
            documented_base("https%3A%2F%2Fapi.x.com%2F1.1%2Fstatuses%2Fupdate.json")
        );
        assert_eq!(
            signature(&base, CONSUMER_SECRET, TOKEN_SECRET),
            "Ls93hJiZbQ3akF3HF3x1Bz8/zU4="
        );
    }

    #[test]
    fn the_api_twitter_com_version_of_the_example() {
        // Earlier editions of the page (developer.twitter.com, api.twitter.com/1.1)
        // used this host; the widely used vector for it is hCtSmYh+iHYCEqBWrE7C7hYmtUk=
        // (computed from the documented base string and key; openssl agrees).
        let url = url::Url::parse("https://api.twitter.com/1.1/statuses/update.json").unwrap();
        let base = signature_base_string("post", &url, &documented_params());
        assert_eq!(
            base,
            documented_base("https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json")
        );
        assert_eq!(
            signature(&base, CONSUMER_SECRET, TOKEN_SECRET),
            "hCtSmYh+iHYCEqBWrE7C7hYmtUk="
        );
    }

    #[test]
    fn header_matches_xs_authorizing_a_request_page() {
        // "Authorizing a request" prints this exact header; its signature
        // (tnnArxj06cWHq44gCs1OSKk/jLY=) was computed for the page's original
        // URL, https://api.twitter.com/1/statuses/update.json.
        let url =
            url::Url::parse("https://api.twitter.com/1/statuses/update.json?include_entities=true")
                .unwrap();
        let header = authorization("POST", &url, &form(), &credentials(), NONCE, TIMESTAMP);
        assert_eq!(
            header,
            "OAuth oauth_consumer_key=\"xvz1evFS4wEEPTGEFPHBog\", oauth_nonce=\"kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg\", oauth_signature=\"tnnArxj06cWHq44gCs1OSKk%2FjLY%3D\", oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"1318622958\", oauth_token=\"370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb\", oauth_version=\"1.0\""
        );
    }

    #[test]
    fn query_and_form_parameters_are_both_signed() {
        let signed = |url: &str, form: &[(String, String)]| {
            let url = url::Url::parse(url).unwrap();
            authorization("POST", &url, form, &credentials(), NONCE, TIMESTAMP)
        };
        let full = signed(
            "https://api.x.com/1.1/statuses/update.json?include_entities=true",
            &form(),
        );
        assert!(full.contains("oauth_signature=\"Ls93hJiZbQ3akF3HF3x1Bz8%2FzU4%3D\""));
        let without_query = signed("https://api.x.com/1.1/statuses/update.json", &form());
        let without_form = signed(
            "https://api.x.com/1.1/statuses/update.json?include_entities=true",
            &[],
        );
        assert_ne!(full, without_query);
        assert_ne!(full, without_form);
        assert_ne!(without_query, without_form);
        // Query and form parameters never leak into the header itself.
        assert!(!full.contains("status"));
        assert!(!full.contains("include_entities"));
    }

    #[test]
    fn base_url_is_normalised() {
        let base = |u: &str| base_url(&url::Url::parse(u).unwrap());
        assert_eq!(
            base("HTTPS://API.X.com:443/2/Tweets?x=1#frag"),
            "https://api.x.com/2/Tweets"
        );
        assert_eq!(
            base("http://api.x.com:80/2/tweets"),
            "http://api.x.com/2/tweets"
        );
        assert_eq!(
            base("https://api.x.com:8443/2/tweets"),
            "https://api.x.com:8443/2/tweets"
        );
    }

    #[test]
    fn percent_encoding_follows_xs_examples() {
        // https://docs.x.com/fundamentals/authentication/oauth-1-0a/percent-encoding-parameters
        assert_eq!(encode("Ladies + Gentlemen"), "Ladies%20%2B%20Gentlemen");
        assert_eq!(encode("An encoded string!"), "An%20encoded%20string%21");
        assert_eq!(encode("Dogs, Cats & Mice"), "Dogs%2C%20Cats%20%26%20Mice");
        assert_eq!(encode("☃"), "%E2%98%83");
        assert_eq!(encode("a-b.c_d~e*"), "a-b.c_d~e%2A");
    }

    #[test]
    fn query_values_are_decoded_before_signing() {
        // `+` in a query means a space (form encoding); signing the raw `+` would
        // produce a signature X rejects.
        let url = url::Url::parse("https://api.x.com/2/tweets/search/recent?query=a+b%21").unwrap();
        let header = authorization("GET", &url, &[], &credentials(), NONCE, TIMESTAMP);
        let mut params: Vec<(String, String)> = [
            ("oauth_consumer_key", CONSUMER_KEY),
            ("oauth_nonce", NONCE),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1318622958"),
            ("oauth_token", TOKEN),
            ("oauth_version", "1.0"),
            ("query", "a b!"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        params.reverse();
        let expected = signature(
            &signature_base_string("GET", &url, &params),
            CONSUMER_SECRET,
            TOKEN_SECRET,
        );
        assert!(header.contains(&format!("oauth_signature=\"{}\"", encode(&expected))));
    }

    #[test]
    fn nonces_are_32_alphanumerics_and_differ() {
        let a = nonce();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, nonce());
    }

    #[test]
    fn debug_hides_the_secrets() {
        let shown = format!("{:?}", credentials());
        assert!(shown.contains(CONSUMER_KEY));
        assert!(!shown.contains(CONSUMER_SECRET));
        assert!(!shown.contains(TOKEN_SECRET));
    }
}
