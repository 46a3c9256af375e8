//! Moving a recorded session between databases: the export file (schema
//! `pg_shell.session.v3`), its checks, and the import.
//!
//! A v3 file is a v2 file whose commands also carry their recorded input
//! (`input_digest`: the blob a command's stdin was, as `api.upload` and
//! `pg_shell cp` record it; `input_refused`: why a client's input was
//! refused), with those blobs among `blobs`. v2 files (which no upload could
//! be in: such exports were refused) are still read.
//!
//! A v2 file is the v1 export (the session and every command with its
//! recorded inputs, plan, trace and output bytes) plus everything a replay
//! needs that v1 only named by digest: the environments the commands started
//! from and left, and their tree objects and file blobs, each keyed by its
//! sha256. The file is pretty-printed JSON exactly as [`write`] prints it, and
//! `integrity.sha256` is the sha256 of the compact JSON of the document
//! without `integrity`; `integrity.signature` (optional) is an Ed25519
//! signature of those same bytes. [`verify`] refuses a file whose bytes are
//! not what pg_shell would write for its content (so a changed byte anywhere,
//! whitespace included, is refused), whose digest does not match, whose
//! signature does not verify, or any of whose blobs, tree objects or
//! environments does not hash to its digest or is not there. Masks
//! (`export --mask VAR`): the variable's values are replaced in every
//! environment, line, argv, output and error, the environments' digests
//! recomputed, and the commands that held a value (or name the variable)
//! listed in `masked_seqs`; a value found in file contents or names is
//! refused, never left in silently.
//!
//! v1 files are still read: they carry no environments and no digest, so
//! they import only into a database that holds the environments they name.
//! Modules are not carried: a command's pinned module must be in the
//! importing database (the same build registers the same digests); with
//! `--against-current` programs are resolved by name instead.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use anyhow::{bail, ensure, Context, Result};
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde_json::{json, Value};
use tokio_postgres::Client;
use uuid::Uuid;

use crate::env::{objects, sha256, Digest, Env, ShellState, Tree};

pub const FORMAT_V1: &str = "pg_shell.session.v1";
pub const FORMAT_V2: &str = "pg_shell.session.v2";
pub const FORMAT_V3: &str = "pg_shell.session.v3";

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// What `pg_shell export` was asked for.
#[derive(Default)]
pub struct ExportOptions {
    /// Variables whose values are masked in the file.
    pub masks: Vec<String>,
    pub signing_key: Option<SigningKey>,
}

/// The session as a v3 document (without `integrity`; [`write`] adds it).
pub async fn export(client: &Client, session: Uuid, opts: &ExportOptions) -> Result<Value> {
    let row = client.query_one("select pgshell.export_json($1)::jsonb", &[&session]).await?;
    let v1: Option<Value> = row.get(0);
    let mut doc = v1.with_context(|| format!("no session {session}"))?;
    let commands = doc["commands"].as_array().cloned().unwrap_or_default();
    let unfinished: Vec<String> = commands
        .iter()
        .filter(|c| !matches!(c["status"].as_str(), Some("done" | "cancelled")))
        .map(|c| format!("#{} ({})", c["seq"], c["status"].as_str().unwrap_or("?")))
        .collect();
    ensure!(
        unfinished.is_empty(),
        "session {session} has unfinished commands ({}): wait for them or cancel them before exporting",
        unfinished.join(", ")
    );
    // Each command's recorded input (0018: uploads, `pg_shell cp`): a blob
    // the file carries, or why the client's input was refused.
    let inputs: HashMap<i32, (Option<Vec<u8>>, Option<String>)> = client
        .query("select seq, input_digest, input_refused from pgshell.commands where session_id = $1", &[&session])
        .await
        .context("reading the commands' recorded input")?
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect();
    let mut input_blobs: Vec<(Digest, i64)> = Vec::new();
    for c in doc["commands"].as_array_mut().into_iter().flatten() {
        let seq = c["seq"].as_i64().context("a command without a seq")?;
        // PostgreSQL's encode(.., 'base64') breaks lines every 76
        // characters; the file holds one unbroken string per stream.
        for f in ["stdout_base64", "stderr_base64"] {
            if let Some(b) = c[f].as_str().filter(|b| b.contains('\n')) {
                c[f] = b.replace('\n', "").into();
            }
        }
        let (digest, refused) = inputs.get(&(seq as i32)).cloned().with_context(|| format!("command #{seq} vanished while exporting"))?;
        if let Some(d) = &digest {
            input_blobs.push((Digest::try_from(d.as_slice()).context("bad input digest")?, seq));
        }
        c["input_digest"] = digest.map(hex::encode).into();
        c["input_refused"] = refused.into();
    }
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    for c in &commands {
        for f in ["env_before", "env_after"] {
            if let Some(d) = c[f].as_str() {
                wanted.insert(d.to_string());
            }
        }
    }
    let digests: Vec<Vec<u8>> = wanted.iter().map(|h| hex::decode(h)).collect::<Result<_, _>>()?;
    let rows = client
        .query(
            "select digest, cwd, vars, shell, root, tree, file_count, tree_bytes
             from pgshell.environments where digest = any($1) order by digest",
            &[&digests],
        )
        .await
        .context("loading the session's environments")?;
    ensure!(rows.len() == digests.len(), "{} of the session's environments are missing", digests.len() - rows.len());
    let cache = crate::store::Cache::default();
    let mut envs = Vec::new();
    let mut tree_objects: BTreeMap<String, Value> = BTreeMap::new();
    let mut blob_digests: BTreeSet<Digest> = BTreeSet::new();
    // For a mask's refusal: which file a blob is.
    let mut blob_paths: HashMap<Digest, String> = HashMap::new();
    for r in &rows {
        let digest: Vec<u8> = r.get(0);
        let d = Digest::try_from(digest.as_slice()).context("bad environment digest")?;
        // Loads and checks the environment and its whole tree.
        let sealed = cache.env(client, &d).await?;
        if let Some(o) = sealed.objects() {
            for (od, bytes) in &o.objects {
                tree_objects.insert(hex::encode(od), Value::String(B64.encode(&bytes[..])));
            }
        }
        let tree: Option<Vec<u8>> = r.get(5);
        if let Some(t) = &tree {
            blob_digests.insert(Digest::try_from(t.as_slice()).context("bad manifest digest")?);
        }
        for (path, e) in &sealed.env.tree.entries {
            if let crate::env::Entry::File { digest, .. } = e {
                blob_digests.insert(*digest);
                blob_paths.entry(*digest).or_insert_with(|| format!("/{path}"));
            }
        }
        let root: Option<Vec<u8>> = r.get(4);
        envs.push(json!({
            "digest": hex::encode(&digest),
            "cwd": r.get::<_, String>(1),
            "vars": r.get::<_, Value>(2),
            "shell": r.get::<_, Value>(3),
            "root": root.map(hex::encode),
            "tree": tree.map(hex::encode),
            "file_count": r.get::<_, i32>(6),
            "tree_bytes": r.get::<_, i64>(7),
        }));
    }
    for (d, seq) in &input_blobs {
        blob_digests.insert(*d);
        blob_paths.entry(*d).or_insert_with(|| format!("the recorded input of command #{seq}"));
    }
    let list: Vec<Digest> = blob_digests.iter().copied().collect();
    let found = cache.blobs(client, &list).await?;
    let mut blobs: BTreeMap<String, Value> = BTreeMap::new();
    for d in &list {
        let data = found.get(d).with_context(|| format!("blob {} is missing", hex::encode(d)))?;
        blobs.insert(hex::encode(d), Value::String(B64.encode(&data[..])));
    }
    let o = doc.as_object_mut().context("export_json is not an object")?;
    o.insert("format".into(), FORMAT_V3.into());
    o.insert("exported_by".into(), format!("pg_shell {}", env!("CARGO_PKG_VERSION")).into());
    o.insert("environments".into(), Value::Array(envs));
    o.insert("tree_objects".into(), Value::Object(tree_objects.into_iter().collect()));
    o.insert("blobs".into(), Value::Object(blobs.into_iter().collect()));
    o.insert("masks".into(), json!([]));
    o.insert("masked_seqs".into(), json!([]));
    if !opts.masks.is_empty() {
        apply_masks(&mut doc, &opts.masks, &found, &blob_paths)?;
    }
    Ok(doc)
}

/// The file's text: the document with its integrity record, pretty-printed.
pub fn write(mut doc: Value, key: Option<&SigningKey>) -> Result<String> {
    let o = doc.as_object_mut().context("not an object")?;
    o.remove("integrity");
    let canonical = serde_json::to_vec(&doc)?;
    let mut integrity = json!({ "sha256": hex::encode(sha256(&canonical)) });
    if let Some(k) = key {
        let sig = k.sign(&canonical);
        integrity["signature"] = json!({
            "algorithm": "ed25519",
            "public_key": hex::encode(k.verifying_key().as_bytes()),
            "value": hex::encode(sig.to_bytes()),
        });
    }
    doc.as_object_mut().unwrap().insert("integrity".into(), integrity);
    Ok(serde_json::to_string_pretty(&doc)? + "\n")
}

/// A file that passed every check.
pub struct Verified {
    pub doc: Value,
    pub format: String,
    /// sha256 of the file's bytes: what makes a second import of it idempotent.
    pub file_sha256: Digest,
    /// The trusted key whose signature was checked (hex).
    pub signed_by: Option<String>,
    /// What was not checked, for the user to read.
    pub notes: Vec<String>,
}

/// Checks a file's bytes (see the module doc); `trusted` is the public key
/// whose signature it must carry.
pub fn verify(bytes: &[u8], trusted: Option<&VerifyingKey>) -> Result<Verified> {
    let text = std::str::from_utf8(bytes).map_err(|e| anyhow::anyhow!("not a pg_shell session file: byte {} is not UTF-8 (altered?)", e.valid_up_to()))?;
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| anyhow::anyhow!("not a pg_shell session file: invalid JSON at line {}, column {} (altered or truncated?)", e.line(), e.column()))?;
    let format = doc["format"].as_str().unwrap_or("").to_string();
    let file_sha256 = sha256(bytes);
    let mut notes = Vec::new();
    match format.as_str() {
        FORMAT_V1 => {
            ensure!(trusted.is_none(), "this is a {FORMAT_V1} file: it carries no signature to verify");
            ensure!(doc["commands"].is_array(), "a {FORMAT_V1} file without a commands list");
            notes.push(format!("{FORMAT_V1}: no digest over the file and no environments to check; the importing database must hold them"));
            return Ok(Verified { doc, format, file_sha256, signed_by: None, notes });
        }
        FORMAT_V2 | FORMAT_V3 => {}
        "" => bail!("not a pg_shell session file: no \"format\" field"),
        other => bail!("unknown export format {other:?} (this pg_shell reads {FORMAT_V1}, {FORMAT_V2} and {FORMAT_V3})"),
    }
    let rewritten = serde_json::to_string_pretty(&doc)? + "\n";
    if rewritten != text {
        let at = rewritten.bytes().zip(text.bytes()).take_while(|(a, b)| a == b).count();
        bail!("refusing the file: byte {at} differs from the form pg_shell writes for this content (the file was altered or reformatted)");
    }
    let mut body = doc.clone();
    let integrity = body.as_object_mut().context("not an object")?.remove("integrity").context("refusing the file: it has no integrity record")?;
    let canonical = serde_json::to_vec(&body)?;
    let computed = hex::encode(sha256(&canonical));
    let recorded = integrity["sha256"].as_str().unwrap_or("");
    ensure!(
        recorded == computed,
        "refusing the file: its content does not match its sha256 (recorded {recorded}, computed {computed}): the file was altered"
    );
    let sig = &integrity["signature"];
    let mut signed_by = None;
    if sig.is_null() {
        ensure!(trusted.is_none(), "refusing the file: it is not signed, and a signature by the given key was required");
    } else {
        ensure!(sig["algorithm"] == "ed25519", "refusing the file: unknown signature algorithm {}", sig["algorithm"]);
        let value = hex_bytes::<64>(sig["value"].as_str().unwrap_or(""), "signature")?;
        let signature = ed25519_dalek::Signature::from_bytes(&value);
        let embedded = VerifyingKey::from_bytes(&hex_bytes::<32>(sig["public_key"].as_str().unwrap_or(""), "public key")?)
            .context("refusing the file: its signature's public key is malformed")?;
        let key = trusted.unwrap_or(&embedded);
        key.verify(&canonical, &signature).map_err(|_| match trusted {
            Some(_) => anyhow::anyhow!("refusing the file: its signature does not verify with the given key (altered, or signed by another key)"),
            None => anyhow::anyhow!("refusing the file: its signature does not verify (the file was altered)"),
        })?;
        match trusted {
            Some(k) => signed_by = Some(hex::encode(k.as_bytes())),
            None => notes.push(format!(
                "signed by key {} (not checked against a key you trust: pass --verify-key)",
                hex::encode(embedded.as_bytes())
            )),
        }
    }
    check_contents(&doc, format == FORMAT_V3)?;
    Ok(Verified { doc, format, file_sha256, signed_by, notes })
}

fn hex_bytes<const N: usize>(h: &str, what: &str) -> Result<[u8; N]> {
    let mut out = [0u8; N];
    hex::decode_to_slice(h, &mut out).map_err(|_| anyhow::anyhow!("refusing the file: malformed {what}"))?;
    Ok(out)
}

fn digest_of(h: &str, what: &str) -> Result<Digest> {
    hex_bytes::<32>(h, what).map(Digest)
}

/// Every blob, tree object and environment hashes to its digest, every
/// environment a command names is there with its whole tree, and (v3) every
/// recorded input; nothing else is.
fn check_contents(doc: &Value, v3: bool) -> Result<()> {
    let mut blobs: HashMap<Digest, Vec<u8>> = HashMap::new();
    for (k, v) in doc["blobs"].as_object().context("refusing the file: no blobs")? {
        let d = digest_of(k, "blob digest")?;
        let data = B64.decode(v.as_str().unwrap_or("")).with_context(|| format!("refusing the file: blob {k} is not base64"))?;
        ensure!(sha256(&data) == d, "refusing the file: blob {k} does not match its digest (file contents altered)");
        blobs.insert(d, data);
    }
    let mut objs: HashMap<Digest, objects::Object> = HashMap::new();
    for (k, v) in doc["tree_objects"].as_object().context("refusing the file: no tree objects")? {
        let d = digest_of(k, "tree object digest")?;
        let data = B64.decode(v.as_str().unwrap_or("")).with_context(|| format!("refusing the file: tree object {k} is not base64"))?;
        ensure!(sha256(&data) == d, "refusing the file: tree object {k} does not match its digest (directory listing altered)");
        objs.insert(d, Arc::from(data));
    }
    let mut used_blobs = BTreeSet::new();
    let mut used_objs = BTreeSet::new();
    let mut envs = BTreeSet::new();
    for e in doc["environments"].as_array().context("refusing the file: no environments")? {
        let digest = digest_of(e["digest"].as_str().unwrap_or(""), "environment digest")?;
        let env = env_of(e)?;
        let sealed = match (e["root"].as_str(), e["tree"].as_str()) {
            (Some(root), None) => {
                let root = digest_of(root, "root digest")?;
                let (t, encoded) = objects::decode(root, |d| objs.get(d).cloned())
                    .with_context(|| format!("refusing the file: the tree of environment {} is incomplete or malformed", hex::encode(digest)))?;
                used_objs.extend(encoded.objects.keys().copied());
                Env { tree: t, ..env }.seal_encoded(encoded)
            }
            (None, Some(manifest)) => {
                let md = digest_of(manifest, "manifest digest")?;
                let m = blobs.get(&md).with_context(|| format!("refusing the file: manifest {manifest} is missing"))?;
                used_blobs.insert(md);
                Env { tree: Tree::from_manifest(m)?, ..env }.seal_manifest()
            }
            _ => bail!("refusing the file: environment {} has neither a root nor a manifest", hex::encode(digest)),
        };
        ensure!(
            sealed.digest == digest,
            "refusing the file: environment {} does not match its digest (its cwd, variables or shell state were altered)",
            hex::encode(digest)
        );
        for d in sealed.env.tree.file_digests() {
            ensure!(blobs.contains_key(d), "refusing the file: the contents {} of a file of environment {} are missing", hex::encode(d), hex::encode(digest));
            used_blobs.insert(*d);
        }
        envs.insert(digest);
    }
    for c in doc["commands"].as_array().context("refusing the file: no commands")? {
        let (digest, refused) = (&c["input_digest"], &c["input_refused"]);
        if !v3 {
            ensure!(
                c.get("input_digest").is_none() && c.get("input_refused").is_none(),
                "refusing the file: command #{} has recorded input, which a {FORMAT_V2} file cannot carry (altered?)",
                c["seq"]
            );
            continue;
        }
        ensure!(
            (digest.is_null() || digest.is_string()) && (refused.is_null() || refused.is_string()) && (digest.is_null() || refused.is_null()),
            "refusing the file: command #{}'s recorded input is malformed (a blob digest, or why it was refused, not both)",
            c["seq"]
        );
        if let Some(h) = digest.as_str() {
            let d = digest_of(h, "input digest")?;
            ensure!(blobs.contains_key(&d), "refusing the file: the recorded input {h} of command #{} is missing", c["seq"]);
            used_blobs.insert(d);
        }
    }
    let extra_blobs = blobs.keys().filter(|d| !used_blobs.contains(*d)).count();
    let extra_objs = objs.keys().filter(|d| !used_objs.contains(*d)).count();
    ensure!(extra_blobs == 0 && extra_objs == 0, "refusing the file: {extra_blobs} blobs and {extra_objs} tree objects belong to no environment");
    for c in doc["commands"].as_array().context("refusing the file: no commands")? {
        for f in ["env_before", "env_after"] {
            if let Some(h) = c[f].as_str() {
                ensure!(envs.contains(&digest_of(h, "environment digest")?), "refusing the file: command #{}'s {f} environment {h} is missing", c["seq"]);
            }
        }
        for f in ["stdout_base64", "stderr_base64"] {
            if let Some(s) = c[f].as_str() {
                // Files written before the export unbroke PostgreSQL's lines hold
                // line breaks: read as the import's decode reads them.
                B64.decode(s.replace('\n', "")).with_context(|| format!("refusing the file: command #{}'s {f} is not base64", c["seq"]))?;
            }
        }
    }
    Ok(())
}

/// The environment a document entry describes (its tree still empty).
fn env_of(e: &Value) -> Result<Env> {
    let vars: BTreeMap<String, String> = serde_json::from_value(e["vars"].clone()).context("refusing the file: an environment's variables are not a string map")?;
    let shell: ShellState = serde_json::from_value(if e["shell"].is_null() { json!({}) } else { e["shell"].clone() })
        .context("refusing the file: an environment's shell state is malformed")?;
    let cwd = e["cwd"].as_str().context("refusing the file: an environment without a cwd")?.to_string();
    Ok(Env { cwd, vars, tree: Tree::default(), shell })
}

/// Replaces the masked variables' values everywhere they were recorded and
/// lists the commands concerned; refuses what it cannot mask.
fn apply_masks(doc: &mut Value, vars: &[String], blobs: &HashMap<Digest, Arc<Vec<u8>>>, blob_paths: &HashMap<Digest, String>) -> Result<()> {
    // Every value each variable took, longest first (a value inside another).
    let mut secrets: Vec<(String, String)> = Vec::new();
    for var in vars {
        let mut seen = false;
        for e in doc["environments"].as_array().into_iter().flatten() {
            for val in [&e["vars"][var], &e["shell"]["vars"][var]] {
                if let Some(s) = val.as_str() {
                    seen = true;
                    ensure!(
                        s.is_empty() || s.len() >= 4,
                        "cannot mask {var}: its value {s:?} is {} bytes long, too short to tell from ordinary text",
                        s.len()
                    );
                    if !s.is_empty() && !secrets.iter().any(|(_, x)| x == s) {
                        secrets.push((var.clone(), s.to_string()));
                    }
                }
            }
        }
        ensure!(seen, "cannot mask {var}: no environment of this session has that variable");
    }
    secrets.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.cmp(b)));
    let placeholder = |var: &str| format!("[masked:{var}]");
    let replace = |s: &str| -> String {
        let mut out = s.to_string();
        for (var, secret) in &secrets {
            out = out.replace(secret.as_str(), &placeholder(var));
        }
        out
    };
    let replace_bytes = |b: &[u8]| -> Vec<u8> {
        let mut out = b.to_vec();
        for (var, secret) in &secrets {
            out = replace_slice(&out, secret.as_bytes(), placeholder(var).as_bytes());
        }
        out
    };
    let holds = |b: &[u8]| secrets.iter().find(|(_, s)| contains(b, s.as_bytes())).map(|(v, _)| v.clone());
    // File contents and names cannot be masked without changing the trees.
    for (d, data) in blobs {
        if let Some(var) = holds(data) {
            bail!(
                "cannot mask {var}: its value is in the contents of {} (blob {}); masking file contents is not supported: remove the file from the session or export without --mask {var}",
                blob_paths.get(d).map(String::as_str).unwrap_or("a file"),
                hex::encode(d)
            );
        }
    }
    for (k, v) in doc["tree_objects"].as_object().into_iter().flatten() {
        let data = B64.decode(v.as_str().unwrap_or(""))?;
        if let Some(var) = holds(&data) {
            bail!("cannot mask {var}: its value is in a file name or link target (tree object {k}); masking those is not supported");
        }
    }
    // Environments: every value, new digests.
    let mut renamed: HashMap<String, String> = HashMap::new();
    for e in doc["environments"].as_array_mut().into_iter().flatten() {
        if let Some(var) = holds(e["cwd"].as_str().unwrap_or("").as_bytes()) {
            bail!("cannot mask {var}: its value is in a working directory's path");
        }
        let before = e.clone();
        mask_strings(&mut e["vars"], &replace);
        mask_strings(&mut e["shell"], &replace);
        if *e == before {
            continue;
        }
        let env = env_of(e)?;
        let digest = match (e["root"].as_str(), e["tree"].as_str()) {
            (Some(root), _) => crate::env::digest_over_root(&env, &digest_of(root, "root")?),
            (_, Some(m)) => crate::env::digest_over_manifest(&env, &digest_of(m, "manifest")?),
            _ => bail!("an environment with neither a root nor a manifest"),
        };
        renamed.insert(e["digest"].as_str().unwrap_or("").to_string(), hex::encode(digest));
        e["digest"] = hex::encode(digest).into();
    }
    let mut masked = Vec::new();
    for c in doc["commands"].as_array_mut().into_iter().flatten() {
        let before = c.clone();
        for f in ["line", "stdout", "stderr", "error"] {
            if let Some(s) = c[f].as_str() {
                c[f] = replace(s).into();
            }
        }
        mask_strings(&mut c["argv"], &replace);
        for f in ["stdout_base64", "stderr_base64"] {
            if let Some(s) = c[f].as_str() {
                let b = B64.decode(s)?;
                c[f] = B64.encode(replace_bytes(&b)).into();
            }
        }
        // Held a value (the environments' new digests below are not that).
        let held = *c != before;
        for f in ["env_before", "env_after"] {
            if let Some(new) = c[f].as_str().and_then(|h| renamed.get(h)) {
                c[f] = new.clone().into();
            }
        }
        // Any value left is somewhere it cannot be masked.
        let mut rest = c.clone();
        for f in ["env_before", "env_after", "program_digest", "random_seed", "session_id", "input_digest"] {
            rest[f] = Value::Null;
        }
        if let Some((var, _)) = secrets.iter().find(|(_, s)| any_string_contains(&rest, s)) {
            bail!("cannot mask {var} in command #{}: its value is also in the command's plan or trace", c["seq"]);
        }
        let line = c["line"].as_str().unwrap_or("");
        let names = vars.iter().any(|v| names_variable(line, v));
        if held || names {
            masked.push(c["seq"].clone());
        }
    }
    if let Some((var, _)) = secrets.iter().find(|(_, s)| any_string_contains(&doc["session"], s)) {
        bail!("cannot mask {var}: its value is in the session's title");
    }
    doc["masks"] = json!(vars);
    doc["masked_seqs"] = Value::Array(masked);
    Ok(())
}

fn mask_strings(v: &mut Value, replace: &dyn Fn(&str) -> String) {
    match v {
        Value::String(s) => *s = replace(s),
        Value::Array(a) => a.iter_mut().for_each(|x| mask_strings(x, replace)),
        Value::Object(o) => o.values_mut().for_each(|x| mask_strings(x, replace)),
        _ => {}
    }
}

fn any_string_contains(v: &Value, needle: &str) -> bool {
    match v {
        Value::String(s) => s.contains(needle),
        Value::Array(a) => a.iter().any(|x| any_string_contains(x, needle)),
        Value::Object(o) => o.iter().any(|(k, x)| k.contains(needle) || any_string_contains(x, needle)),
        _ => false,
    }
}

/// Whether a line expands `$VAR` or `${VAR...}` (or assigns it).
fn names_variable(line: &str, var: &str) -> bool {
    let word = |i: usize| line[i + var.len()..].chars().next().is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
    line.match_indices(var).any(|(i, _)| {
        let before = &line[..i];
        (before.ends_with('$') || before.ends_with("${") || before.is_empty() || before.ends_with(|c: char| c.is_whitespace() || c == ';'))
            && word(i)
    })
}

fn contains(h: &[u8], n: &[u8]) -> bool {
    !n.is_empty() && h.windows(n.len()).any(|w| w == n)
}

fn replace_slice(h: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(h.len());
    let mut i = 0;
    while i < h.len() {
        if h[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(h[i]);
            i += 1;
        }
    }
    out
}

/// What an import did.
pub struct Imported {
    pub session: Uuid,
    /// False: this user had imported the same file before; that session.
    pub created: bool,
    pub commands: usize,
}

/// Loads a verified file into the database as a new session of `owner`
/// (an existing pg_shell user), in one transaction.
pub async fn import(client: &mut Client, v: &Verified, owner: &str) -> Result<Imported> {
    let tx = client.transaction().await?;
    tx.execute("select set_config('request.jwt.claims', $1, true)", &[&json!({ "sub": owner }).to_string()]).await?;
    let owner_id: i64 = tx
        .query_opt("select id from pgshell.users where name = $1", &[&owner])
        .await?
        .with_context(|| format!("no pg_shell user {owner}"))?
        .get(0);
    let commands = v.doc["commands"].as_array().map(Vec::len).unwrap_or(0);
    let existing = tx
        .query_opt("select session_id from pgshell.imports where owner_id = $1 and file_sha256 = $2", &[&owner_id, &&v.file_sha256[..]])
        .await?;
    if let Some(r) = existing {
        return Ok(Imported { session: r.get(0), created: false, commands });
    }
    if v.format != FORMAT_V1 {
        let mut ds = Vec::new();
        let mut data = Vec::new();
        for (k, b) in v.doc["blobs"].as_object().into_iter().flatten() {
            ds.push(hex::decode(k)?);
            data.push(B64.decode(b.as_str().unwrap_or(""))?);
        }
        let n = tx
            .execute(
                "insert into pgshell.blobs (digest, size, data)
                 select d, length(b), b from unnest($1::bytea[], $2::bytea[]) t(d, b) where sha256(b) = d
                 on conflict (digest) do nothing",
                &[&ds, &data],
            )
            .await
            .context("storing file contents")?;
        tracing::debug!(new = n, total = ds.len(), "blobs imported");
        let (mut ds, mut data) = (Vec::new(), Vec::new());
        for (k, b) in v.doc["tree_objects"].as_object().into_iter().flatten() {
            ds.push(hex::decode(k)?);
            data.push(B64.decode(b.as_str().unwrap_or(""))?);
        }
        tx.execute(
            "insert into pgshell.tree_objects (digest, data) select d, b from unnest($1::bytea[], $2::bytea[]) t(d, b)
             on conflict (digest) do nothing",
            &[&ds, &data],
        )
        .await
        .context("storing tree objects")?;
        let envs = Value::Array(v.doc["environments"].as_array().cloned().unwrap_or_default());
        tx.execute(
            "insert into pgshell.environments (digest, cwd, vars, shell, tree, root, file_count, tree_bytes)
             select decode(e->>'digest', 'hex'), e->>'cwd', e->'vars', coalesce(nullif(e->'shell', 'null'), '{}'),
                    decode(e->>'tree', 'hex'), decode(e->>'root', 'hex'), (e->>'file_count')::int, (e->>'tree_bytes')::bigint
             from jsonb_array_elements($1::jsonb) e
             on conflict (digest) do nothing",
            &[&envs],
        )
        .await
        .context("storing environments")?;
    }
    // Every environment named must be here now (a v1 file relies on that).
    let mut named: BTreeSet<String> = BTreeSet::new();
    for c in v.doc["commands"].as_array().into_iter().flatten() {
        for f in ["env_before", "env_after"] {
            if let Some(h) = c[f].as_str() {
                named.insert(h.to_string());
            }
        }
    }
    let named: Vec<Vec<u8>> = named.iter().map(hex::decode).collect::<Result<_, _>>()?;
    let present: i64 = tx.query_one("select count(*) from pgshell.environments where digest = any($1)", &[&named]).await?.get(0);
    ensure!(
        present as usize == named.len(),
        "{} environments the file names are not in this database ({} carries none: export the session again with this version to get a {FORMAT_V3} file)",
        named.len() - present as usize,
        v.format
    );
    let meta = json!({
        "format": v.format,
        "session": v.doc["session"],
        "commands": v.doc["commands"],
        "masks": v.doc.get("masks").cloned().unwrap_or(json!([])),
        "masked_seqs": v.doc.get("masked_seqs").cloned().unwrap_or(json!([])),
        "signed_by": v.signed_by,
    });
    let row = tx
        .query_one("select session_id, created from pgshell.import_session($1, $2, $3)", &[&owner_id, &&v.file_sha256[..], &meta])
        .await
        .context("importing the session")?;
    tx.commit().await?;
    Ok(Imported { session: row.get(0), created: row.get(1), commands })
}

/// Which modules the file's plans pin are missing here: (digest hex, program
/// names, command seqs).
pub async fn missing_modules(client: &Client, doc: &Value) -> Result<Vec<(String, BTreeSet<String>, BTreeSet<i64>)>> {
    let mut pins: BTreeMap<String, (BTreeSet<String>, BTreeSet<i64>)> = BTreeMap::new();
    for c in doc["commands"].as_array().into_iter().flatten() {
        let seq = c["seq"].as_i64().unwrap_or(0);
        for (name, pin) in c["plan"]["programs"].as_object().into_iter().flatten() {
            if pin["kind"] == "wasi" {
                if let Some(d) = pin["digest"].as_str() {
                    let e = pins.entry(d.to_string()).or_default();
                    e.0.insert(name.clone());
                    e.1.insert(seq);
                }
            }
        }
    }
    let digests: Vec<Vec<u8>> = pins.keys().map(hex::decode).collect::<Result<_, _>>()?;
    let rows = client.query("select digest from pgshell.blobs where digest = any($1)", &[&digests]).await?;
    let present: BTreeSet<String> = rows.iter().map(|r| hex::encode(r.get::<_, Vec<u8>>(0))).collect();
    Ok(pins.into_iter().filter(|(d, _)| !present.contains(d)).map(|(d, (n, s))| (d, n, s)).collect())
}

/// An Ed25519 signing key from a file: PKCS#8 PEM (`openssl genpkey
/// -algorithm ed25519`) or the 32-byte secret as 64 hex digits.
pub fn read_signing_key(path: &std::path::Path) -> Result<SigningKey> {
    use ed25519_dalek::pkcs8::DecodePrivateKey;
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let t = text.trim();
    if t.starts_with("-----BEGIN") {
        return SigningKey::from_pkcs8_pem(t).map_err(|e| anyhow::anyhow!("{}: not an Ed25519 private key in PKCS#8 PEM: {e}", path.display()));
    }
    let mut b = [0u8; 32];
    hex::decode_to_slice(t, &mut b).map_err(|_| anyhow::anyhow!("{}: expected a PEM private key or 64 hex digits", path.display()))?;
    Ok(SigningKey::from_bytes(&b))
}

/// An Ed25519 public key from a file: SPKI PEM (`openssl pkey -pubout`) or
/// 64 hex digits.
pub fn read_verifying_key(path: &std::path::Path) -> Result<VerifyingKey> {
    use ed25519_dalek::pkcs8::DecodePublicKey;
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let t = text.trim();
    if t.starts_with("-----BEGIN") {
        return VerifyingKey::from_public_key_pem(t).map_err(|e| anyhow::anyhow!("{}: not an Ed25519 public key in PEM: {e}", path.display()));
    }
    let mut b = [0u8; 32];
    hex::decode_to_slice(t, &mut b).map_err(|_| anyhow::anyhow!("{}: expected a PEM public key or 64 hex digits", path.display()))?;
    VerifyingKey::from_bytes(&b).map_err(|e| anyhow::anyhow!("{}: not an Ed25519 public key: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_names_a_variable_only_as_a_whole_name() {
        assert!(names_variable("echo $TOKEN", "TOKEN"));
        assert!(names_variable("echo ${TOKEN:-x}", "TOKEN"));
        assert!(names_variable("export TOKEN=abc", "TOKEN"));
        assert!(!names_variable("echo $TOKENS", "TOKEN"));
        assert!(!names_variable("echo MYTOKEN", "TOKEN"));
    }

    #[test]
    fn replacing_bytes_replaces_every_occurrence() {
        assert_eq!(replace_slice(b"a-secret-b-secret", b"secret", b"X"), b"a-X-b-X");
    }
}
