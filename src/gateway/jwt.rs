//! Bearer tokens: HS256/384/512 JWTs checked against PGRST_JWT_SECRET the way
//! PostgREST checks them (Auth/Jwt.hs): signature, then `exp`, `nbf`, `iat`
//! with 30 seconds of clock skew, then `aud` when PGRST_JWT_AUD is set.
//! Errors carry PostgREST's codes: PGRST300 (no secret), PGRST301 (the token
//! cannot be decoded or verified), PGRST303 (its claims are unacceptable).

use axum::http::{header, StatusCode};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};

use super::error::ApiError;

const ALLOWED_SKEW: i64 = 30;

const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_encode_padding(false).with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn invalid_token(status: StatusCode, code: &str, message: &str) -> ApiError {
    ApiError::new(status, code, message)
        .header(header::WWW_AUTHENTICATE, &format!("Bearer error=\"invalid_token\", error_description={message:?}"))
}

fn decode_error(message: &str) -> ApiError {
    invalid_token(StatusCode::UNAUTHORIZED, "PGRST301", message)
}

fn claims_error(message: &str) -> ApiError {
    invalid_token(StatusCode::UNAUTHORIZED, "PGRST303", message)
}

pub fn secret_missing() -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "PGRST300", "Server lacks JWT secret")
}

/// Verifies `token` and returns its claims. `now` is Unix seconds.
pub fn verify(token: &str, secret: &[u8], audience: Option<&str>, now: i64) -> Result<Map<String, Value>, ApiError> {
    if token.is_empty() {
        return Err(decode_error("Empty JWT is sent in Authorization header"));
    }
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(decode_error(&format!("Expected 3 parts in JWT; got {}", parts.len())));
    }
    let header: Option<Map<String, Value>> = B64URL.decode(parts[0]).ok().and_then(|b| serde_json::from_slice(&b).ok());
    let Some(header) = header else {
        return Err(decode_error("JWT couldn't be decoded"));
    };
    let signing_input = &token[..parts[0].len() + 1 + parts[1].len()];
    let Ok(signature) = B64URL.decode(parts[2]) else {
        return Err(decode_error("JWT cryptographic operation failed"));
    };
    let verified = match header.get("alg").and_then(Value::as_str) {
        Some("HS256") => check(Alg::Hs256, secret, signing_input, &signature),
        Some("HS384") => check(Alg::Hs384, secret, signing_input, &signature),
        Some("HS512") => check(Alg::Hs512, secret, signing_input, &signature),
        _ => {
            return Err(decode_error("Wrong or unsupported encoding algorithm")
                .details("only HS256, HS384 and HS512 tokens are accepted"))
        }
    };
    if !verified {
        return Err(decode_error("JWT cryptographic operation failed"));
    }
    let claims: Option<Map<String, Value>> = B64URL.decode(parts[1]).ok().and_then(|b| serde_json::from_slice(&b).ok());
    let Some(claims) = claims else {
        return Err(claims_error("Parsing claims failed"));
    };
    check_claims(&claims, audience, now)?;
    Ok(claims)
}

fn check(alg: Alg, secret: &[u8], input: &str, signature: &[u8]) -> bool {
    macro_rules! verify_with {
        ($d:ty) => {
            match <Hmac<$d> as Mac>::new_from_slice(secret) {
                Ok(mut mac) => {
                    mac.update(input.as_bytes());
                    mac.verify_slice(signature).is_ok()
                }
                Err(_) => false,
            }
        };
    }
    match alg {
        Alg::Hs256 => verify_with!(sha2::Sha256),
        Alg::Hs384 => verify_with!(sha2::Sha384),
        Alg::Hs512 => verify_with!(sha2::Sha512),
    }
}

#[derive(Clone, Copy)]
enum Alg {
    Hs256,
    Hs384,
    Hs512,
}

fn check_claims(claims: &Map<String, Value>, audience: Option<&str>, now: i64) -> Result<(), ApiError> {
    let number = |key: &str, not_number: &str| -> Result<Option<i64>, ApiError> {
        match claims.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(Some(n.as_f64().map(|f| f.floor() as i64).unwrap_or(0))),
            Some(_) => Err(claims_error(not_number)),
        }
    };
    if let Some(exp) = number("exp", "The JWT 'exp' claim must be a number")? {
        if now - ALLOWED_SKEW > exp {
            return Err(claims_error("JWT expired"));
        }
    }
    if let Some(nbf) = number("nbf", "The JWT 'nbf' claim must be a number")? {
        if now + ALLOWED_SKEW < nbf {
            return Err(claims_error("JWT not yet valid"));
        }
    }
    if let Some(iat) = number("iat", "The JWT 'iat' claim must be a number")? {
        if now + ALLOWED_SKEW < iat {
            return Err(claims_error("JWT issued at future"));
        }
    }
    let matches = |a: &str| audience.is_none_or(|want| want == a);
    match claims.get("aud") {
        None | Some(Value::Null) => {}
        Some(Value::String(a)) => {
            if !matches(a) {
                return Err(claims_error("JWT not in audience"));
            }
        }
        Some(Value::Array(items)) => {
            let mut auds = Vec::with_capacity(items.len());
            for i in items {
                match i.as_str() {
                    Some(s) => auds.push(s),
                    None => return Err(claims_error("The JWT 'aud' claim must be a string or an array of strings")),
                }
            }
            if !auds.is_empty() && !auds.iter().any(|a| matches(a)) {
                return Err(claims_error("JWT not in audience"));
            }
        }
        Some(_) => return Err(claims_error("The JWT 'aud' claim must be a string or an array of strings")),
    }
    Ok(())
}

/// Signs `claims` with HS256 (for tests, benchmarks and operators' tooling).
pub fn sign_hs256(claims: &Value, secret: &[u8]) -> String {
    let input = format!("{}.{}", B64URL.encode(br#"{"alg":"HS256","typ":"JWT"}"#), B64URL.encode(claims.to_string()));
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(input.as_bytes());
    format!("{input}.{}", B64URL.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &[u8] = b"reallyreallyreallyreallyverysafe";

    #[test]
    fn round_trip_and_failures() {
        let t = sign_hs256(&json!({"role": "pgshell_user", "sub": "alice", "exp": 2000}), KEY);
        let c = verify(&t, KEY, None, 1000).unwrap();
        assert_eq!(c["sub"], "alice");
        assert_eq!(verify(&t, b"another-secret-another-secret-xx", None, 1000).unwrap_err().code, "PGRST301");
        let e = verify(&t, KEY, None, 2031).unwrap_err();
        assert_eq!((e.code.as_str(), e.message.as_str()), ("PGRST303", "JWT expired"));
        assert!(verify(&t, KEY, None, 2029).is_ok(), "30 s of skew");
        assert_eq!(verify("a.b", KEY, None, 0).unwrap_err().message, "Expected 3 parts in JWT; got 2");
        let aud = sign_hs256(&json!({"aud": ["x", "y"]}), KEY);
        assert!(verify(&aud, KEY, Some("y"), 0).is_ok());
        assert_eq!(verify(&aud, KEY, Some("z"), 0).unwrap_err().message, "JWT not in audience");
        // alg=none is refused even with an empty signature.
        let none = format!("{}.{}.", B64URL.encode(br#"{"alg":"none"}"#), B64URL.encode(br#"{"role":"postgres"}"#));
        assert_eq!(verify(&none, KEY, None, 0).unwrap_err().code, "PGRST301");
    }
}
