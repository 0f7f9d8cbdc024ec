//! A pool of target keys: `target.keys_env: [TEAM_A_KEY, TEAM_B_KEY]` (environment variables)
//! or `target.keys_file: keys.txt` (one key a line, relative to the scenario), read once when
//! the scenario is checked. Logical request `id` presents key `id % n` on every attempt (round
//! robin: equal shares, the same key for the same request in every run and replay).
//!
//! A key's value lives only in a [`SecretKey`], whose `Debug` never shows it; everything that
//! reports on a key names it by its variable (`TEAM_A_KEY`) or its line (`key-2`) and a
//! [`fingerprint`]: the first 8 hex digits of its SHA-256, enough to tell two keys apart and to
//! match a key one holds, never enough to get the key back.

use std::path::Path;

use serde_saphyr::Spanned;

use super::{build::Checked, error::Located};

/// A key's value, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(String);

impl SecretKey {
    pub fn new(value: String) -> Self {
        SecretKey(value)
    }

    /// The key itself: for the request's header and `{{key}}`, nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// One key of the pool: how reports name it, and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolKey {
    /// The environment variable it came from, or `key-<line number>` from a file.
    pub name: String,
    /// `sha256:` and the first 8 hex digits of the key's SHA-256.
    pub fingerprint: String,
    pub secret: SecretKey,
}

/// The keys a gateway target is called with, in turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPool {
    pub keys: Vec<PoolKey>,
}

impl KeyPool {
    /// The index of the key logical request `id` presents.
    pub fn index_for(id: u64, len: usize) -> usize {
        (id % len.max(1) as u64) as usize
    }
}

/// A short, non-reversible name for a key's value.
pub fn fingerprint(key: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    let hex: String = digest.as_ref()[..4].iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha256:{hex}")
}

/// The pool from `keys_env` (each variable read now) or `keys_file` (relative to the scenario's
/// folder); errors at the variable or the file's name, never showing a key.
pub fn build_pool(
    keys_env: Option<&Spanned<Vec<Spanned<String>>>>,
    keys_file: Option<&Spanned<String>>,
    scenario_dir: &Path,
) -> Checked<Option<KeyPool>> {
    let keys = match (keys_env, keys_file) {
        (None, None) => return Ok(None),
        (Some(_), Some(file)) => {
            return Err(Located::at(
                &file.referenced,
                "give the key pool as `keys_env` or `keys_file`, not both",
            ))
        }
        (Some(names), None) => from_env(names)?,
        (None, Some(file)) => from_file(file, scenario_dir)?,
    };
    if keys.len() > crate::most::KEYS as usize {
        let at =
            keys_file.map_or_else(|| &keys_env.expect("one of the two").referenced, |file| &file.referenced);
        let message =
            format!("the key pool holds {} keys; the most allowed is {}", keys.len(), crate::most::KEYS);
        return Err(Located::at(at, message));
    }
    Ok(Some(KeyPool { keys }))
}

fn from_env(names: &Spanned<Vec<Spanned<String>>>) -> Checked<Vec<PoolKey>> {
    if names.value.is_empty() {
        return Err(Located::at(&names.referenced, "`keys_env` must name at least one variable"));
    }
    names
        .value
        .iter()
        .map(|name| {
            let value = std::env::var(&name.value).map_err(|_| {
                Located::at(&name.referenced, format!("the environment variable `{}` is not set", name.value))
            })?;
            if value.trim().is_empty() {
                return Err(Located::at(
                    &name.referenced,
                    format!("the environment variable `{}` is empty", name.value),
                ));
            }
            pool_key(name.value.clone(), value.trim().to_owned(), &name.referenced)
        })
        .collect()
}

/// One key a line; blank lines and lines starting with `#` are skipped.
fn from_file(file: &Spanned<String>, scenario_dir: &Path) -> Checked<Vec<PoolKey>> {
    let path = scenario_dir.join(&file.value);
    let text = crate::read::read_text(&path).map_err(|error| {
        Located::at(&file.referenced, format!("the key file `{}` {error}", path.display()))
    })?;
    let keys: Vec<PoolKey> = text
        .lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(line_number, key)| pool_key(format!("key-{line_number}"), key.to_owned(), &file.referenced))
        .collect::<Checked<_>>()?;
    if keys.is_empty() {
        return Err(Located::at(&file.referenced, format!("the key file `{}` holds no key", path.display())));
    }
    Ok(keys)
}

/// A key named `name`, refused (at `at`, without showing it) if no header can carry it.
fn pool_key(name: String, value: String, at: &serde_saphyr::Location) -> Checked<PoolKey> {
    if http::HeaderValue::from_str(&format!("Bearer {value}")).is_err() {
        return Err(Located::at(at, format!("key `{name}` cannot be sent in a header")));
    }
    Ok(PoolKey { name, fingerprint: fingerprint(&value), secret: SecretKey::new(value) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_is_short_stable_and_differs_between_keys() {
        let one = fingerprint("sk-team-a-0123456789");
        assert_eq!(one, fingerprint("sk-team-a-0123456789"));
        assert_ne!(one, fingerprint("sk-team-b-0123456789"));
        assert_eq!(one.len(), "sha256:".len() + 8);
        assert!(!one.contains("team"), "{one}");
        // The SHA-256 of "abc" begins ba7816bf.
        assert_eq!(fingerprint("abc"), "sha256:ba7816bf");
    }

    #[test]
    fn a_secret_never_shows_in_debug_output() {
        let at = serde_saphyr::Location::UNKNOWN;
        let key = pool_key("TEAM_A_KEY".to_owned(), "sk-very-secret".to_owned(), &at).unwrap();
        let shown = format!("{:?}", KeyPool { keys: vec![key] });
        assert!(shown.contains("TEAM_A_KEY") && !shown.contains("sk-very-secret"), "{shown}");
    }

    #[test]
    fn requests_take_the_keys_in_turn() {
        let picks: Vec<usize> = (0..6).map(|id| KeyPool::index_for(id, 3)).collect();
        assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
    }
}
