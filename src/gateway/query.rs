//! PostgREST's read grammar on a function's result: `select` (columns,
//! `alias:col`, `col::type`, JSON paths `col->a->>b`), horizontal filters
//! (`col=op.value`, `not.`, `or=(...)` / `and=(...)` trees), `order`,
//! `limit` / `offset` and the `Range` header, as `SELECT ... FROM f(...)
//! "pgrst_call" WHERE ... ORDER BY ... LIMIT ... OFFSET ...`.
//!
//! Nothing from the request becomes SQL text: a column name must be one of
//! the function's result columns as the catalog lists them (then quoted), a
//! cast must name a built-in type the catalog knows (then quoted, qualified),
//! operators map to fixed SQL, and every value, JSON key, limit and offset is
//! a bound parameter.

use axum::http::StatusCode;
use tokio_postgres::types::ToSql;

use super::catalog::{Column, Routine};
use super::error::ApiError;

/// A bound value.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Text(String),
    Bytes(Vec<u8>),
    TextArray(Vec<String>),
    Int(i64),
}

impl Bind {
    pub fn as_sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Bind::Text(s) => s,
            Bind::Bytes(b) => b,
            Bind::TextArray(v) => v,
            Bind::Int(n) => n,
        }
    }
}

/// Query-string keys that are grammar, never filters or arguments.
pub const RESERVED: &[&str] = &["select", "columns", "order", "limit", "offset", "on_conflict", "and", "or", "not.and", "not.or"];

#[derive(Debug, Clone, PartialEq)]
enum Arrow {
    /// `->`: JSON.
    Json,
    /// `->>`: text.
    Text,
}

#[derive(Debug, Clone, PartialEq)]
struct Field {
    col: String,
    path: Vec<(Arrow, String)>,
}

#[derive(Debug, Clone, PartialEq)]
struct SelItem {
    alias: Option<String>,
    field: Field,
    cast: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Cond {
    Leaf { field: Field, negate: bool, op: String, modifier: Option<String>, value: String },
    Group { negate: bool, and: bool, items: Vec<Cond> },
}

#[derive(Debug, Clone, PartialEq)]
struct OrderTerm {
    field: Field,
    desc: bool,
    nulls_first: Option<bool>,
}

/// The grammar of one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadPlan {
    select: Option<Vec<SelItem>>,
    conds: Vec<Cond>,
    order: Vec<OrderTerm>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

const OPERATORS: &[&str] = &[
    "eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch", "in", "is", "isdistinct", "fts", "plfts", "phfts",
    "wfts", "cs", "cd", "ov", "sl", "sr", "nxr", "nxl", "adj",
];

pub fn parse_error(what: &str, details: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "PGRST100", format!("\"failed to parse {what}\" (line 1, column 1)")).details(details)
}

/// Whether `value` reads as a filter (`[not.]op.…`): on GET, a parameter that
/// does not is a function argument.
pub fn is_filter_value(value: &str) -> bool {
    let v = value.strip_prefix("not.").unwrap_or(value);
    let op: String = v.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    OPERATORS.contains(&op.as_str()) && matches!(v[op.len()..].chars().next(), Some('.') | Some('('))
}

impl ReadPlan {
    /// Reads the grammar from query-string pairs (arguments already taken out).
    pub fn parse(pairs: &[(String, String)]) -> Result<ReadPlan, ApiError> {
        let mut plan = ReadPlan::default();
        for (k, v) in pairs {
            match k.as_str() {
                "select" => plan.select = parse_select(v)?,
                "order" => plan.order = parse_order(v)?,
                "limit" => plan.limit = Some(parse_count(v, "limit")?),
                "offset" => plan.offset = Some(parse_count(v, "offset")?),
                "columns" | "on_conflict" => {}
                "and" | "or" | "not.and" | "not.or" => {
                    let negate = k.starts_with("not.");
                    let and = k.ends_with("and");
                    let inner = v.strip_prefix('(').and_then(|x| x.strip_suffix(')')).ok_or_else(|| {
                        parse_error(&format!("logic tree ({v})"), "expecting \"(\" and \")\" around the conditions")
                    })?;
                    plan.conds.push(Cond::Group { negate, and, items: parse_tree_items(inner)? });
                }
                key => {
                    if let Some((rel, _)) = key.split_once('.').filter(|(a, _)| !a.contains("->")) {
                        return Err(ApiError::new(
                            StatusCode::BAD_REQUEST,
                            "PGRST108",
                            format!("'{rel}' is not an embedded resource in this request"),
                        )
                        .hint(format!("Verify that '{rel}' is included in the 'select' query parameter.")));
                    }
                    plan.conds.push(parse_leaf(parse_field(key)?, v)?);
                }
            }
        }
        Ok(plan)
    }

    /// Whether the default projection is kept (no `select`, or `select=*`).
    pub fn default_select(&self) -> bool {
        self.select.is_none()
    }
}

fn parse_count(v: &str, what: &str) -> Result<i64, ApiError> {
    v.trim().parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
        parse_error(&format!("{what} parameter ({v})"), "expecting a non-negative integer")
    })
}

/// Splits at top-level commas, minding parentheses and double quotes.
fn split_top(s: &str) -> Result<Vec<String>, ApiError> {
    let (mut out, mut cur, mut depth, mut quoted, mut esc) = (Vec::new(), String::new(), 0i32, false, false);
    for c in s.chars() {
        if esc {
            cur.push(c);
            esc = false;
            continue;
        }
        match c {
            '\\' if quoted => {
                cur.push(c);
                esc = true;
            }
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            '(' if !quoted => {
                depth += 1;
                cur.push(c);
            }
            ')' if !quoted => {
                depth -= 1;
                if depth < 0 {
                    return Err(parse_error(&format!("({s})"), "unexpected \")\""));
                }
                cur.push(c);
            }
            ',' if !quoted && depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    if quoted || depth != 0 {
        return Err(parse_error(&format!("({s})"), "unbalanced quotes or parentheses"));
    }
    out.push(cur);
    Ok(out)
}

/// `col`, `col->a->>b`, `col->0`.
fn parse_field(s: &str) -> Result<Field, ApiError> {
    let s = s.trim();
    let bad = || parse_error(&format!("field ({s})"), "expecting a column name, optionally followed by -> or ->> paths");
    let mut rest = s;
    let head_end = rest.find("->").unwrap_or(rest.len());
    let col = rest[..head_end].to_string();
    if col.is_empty() || col.contains(['(', ')', ',', ':', '"']) {
        return Err(bad());
    }
    rest = &rest[head_end..];
    let mut path = Vec::new();
    while !rest.is_empty() {
        let (arrow, after) = if let Some(a) = rest.strip_prefix("->>") {
            (Arrow::Text, a)
        } else if let Some(a) = rest.strip_prefix("->") {
            (Arrow::Json, a)
        } else {
            return Err(bad());
        };
        let end = after.find("->").unwrap_or(after.len());
        let key = &after[..end];
        if key.is_empty() {
            return Err(bad());
        }
        path.push((arrow, key.to_string()));
        rest = &after[end..];
    }
    Ok(Field { col, path })
}

fn parse_select(v: &str) -> Result<Option<Vec<SelItem>>, ApiError> {
    let mut items = Vec::new();
    for raw in split_top(v)? {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(parse_error(&format!("select ({v})"), "unexpected empty select item"));
        }
        if raw == "*" {
            if v.trim() == "*" {
                return Ok(None);
            }
            return Err(parse_error(&format!("select ({v})"), "* can only stand alone in the select of a function result"));
        }
        if raw.contains('(') || raw.starts_with("...") || raw.contains('!') {
            let name = raw.trim_start_matches("...").split(['(', '!']).next().unwrap_or(raw);
            let name = name.rsplit(':').next().unwrap_or(name);
            if raw.ends_with("()") || raw.contains(".sum(") || raw.contains(".avg(") || raw.contains(".min(") || raw.contains(".max(") || raw.contains(".count(") {
                return Err(ApiError::new(StatusCode::BAD_REQUEST, "PGRST123", "Use of aggregate functions is not allowed"));
            }
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "PGRST200",
                format!("Could not find a relationship between the function result and '{name}' in the schema cache"),
            )
            .hint("pg_shell does not embed resources in function results (see docs/postgrest.md)"));
        }
        let (alias, rest) = match raw.split_once(':') {
            Some((a, r)) if !a.is_empty() && !r.starts_with(':') => (Some(a.to_string()), r),
            _ => (None, raw),
        };
        let (field, cast) = match rest.split_once("::") {
            Some((f, c)) => (f, Some(c.trim().to_ascii_lowercase())),
            None => (rest, None),
        };
        items.push(SelItem { alias, field: parse_field(field)?, cast });
    }
    Ok(Some(items))
}

fn parse_order(v: &str) -> Result<Vec<OrderTerm>, ApiError> {
    let mut out = Vec::new();
    for term in split_top(v)? {
        let mut parts: Vec<&str> = term.split('.').collect();
        let mut desc = false;
        let mut nulls_first = None;
        while parts.len() > 1 {
            match *parts.last().unwrap() {
                "asc" => desc = false,
                "desc" => desc = true,
                "nullsfirst" => nulls_first = Some(true),
                "nullslast" => nulls_first = Some(false),
                _ => break,
            }
            parts.pop();
        }
        let f = parts.join(".");
        if f.contains('(') {
            return Err(ApiError::new(StatusCode::BAD_REQUEST, "PGRST200", "Could not find a relationship for ordering in the schema cache")
                .hint("pg_shell does not embed resources in function results (see docs/postgrest.md)"));
        }
        out.push(OrderTerm { field: parse_field(&f).map_err(|_| parse_error(&format!("order ({v})"), "expecting field[.asc|.desc][.nullsfirst|.nullslast]"))?, desc, nulls_first });
    }
    Ok(out)
}

/// `op[(modifier)].value`, with an optional `not.` before it.
fn parse_leaf(field: Field, v: &str) -> Result<Cond, ApiError> {
    let fail = || {
        let first = v.chars().next().map(|c| c.to_string()).unwrap_or_default();
        parse_error(
            &format!("filter ({v})"),
            format!("unexpected \"{first}\" expecting \"not\" or operator (eq, gt, ...)"),
        )
    };
    let (negate, rest) = match v.strip_prefix("not.") {
        Some(r) => (true, r),
        None => (false, v),
    };
    let op: String = rest.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    if !OPERATORS.contains(&op.as_str()) {
        return Err(fail());
    }
    let mut after = &rest[op.len()..];
    let mut modifier = None;
    if let Some(m) = after.strip_prefix('(') {
        let end = m.find(')').ok_or_else(fail)?;
        modifier = Some(m[..end].to_string());
        after = &m[end + 1..];
    }
    let value = after.strip_prefix('.').ok_or_else(fail)?.to_string();
    match (op.as_str(), modifier.as_deref()) {
        ("fts" | "plfts" | "phfts" | "wfts", _) => {}
        ("eq" | "neq" | "gt" | "gte" | "lt" | "lte" | "like" | "ilike" | "match" | "imatch", None | Some("any") | Some("all")) => {}
        (_, None) => {}
        _ => return Err(fail()),
    }
    Ok(Cond::Leaf { field, negate, op, modifier, value })
}

/// The items of `or=(...)`: `field.op.value`, `not.field.op.value`, `and(...)`, `not.or(...)`.
fn parse_tree_items(inner: &str) -> Result<Vec<Cond>, ApiError> {
    let mut out = Vec::new();
    for item in split_top(inner)? {
        let item = item.trim();
        let (negate, body) = match item.strip_prefix("not.") {
            Some(b) => (true, b),
            None => (false, item),
        };
        if let Some(g) = body.strip_prefix("and(").or_else(|| body.strip_prefix("or(")) {
            let and = body.starts_with("and(");
            let g = g.strip_suffix(')').ok_or_else(|| parse_error(&format!("logic tree ({inner})"), "expecting \")\""))?;
            out.push(Cond::Group { negate, and, items: parse_tree_items(g)? });
            continue;
        }
        // field.op.value: the field ends at the first '.' not inside a JSON key.
        let dot = body.find('.').ok_or_else(|| parse_error(&format!("logic tree ({inner})"), "expecting field.operator.value"))?;
        let field = parse_field(&body[..dot])?;
        let mut value = body[dot + 1..].to_string();
        if negate {
            value = format!("not.{value}");
        }
        let mut leaf = parse_leaf(field, &value)?;
        if let Cond::Leaf { value, .. } = &mut leaf {
            *value = unquote(value);
        }
        out.push(leaf);
    }
    Ok(out)
}

fn unquote(s: &str) -> String {
    match s.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
        Some(inner) => inner.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => s.to_string(),
    }
}

/// `(a,b,"c,d")` → its items.
fn parse_in_list(v: &str) -> Result<Vec<String>, ApiError> {
    let inner = v
        .strip_prefix('(')
        .and_then(|x| x.strip_suffix(')'))
        .ok_or_else(|| parse_error(&format!("filter (in.{v})"), "expecting a list in parentheses: in.(a,b,c)"))?;
    if inner.is_empty() {
        return Ok(Vec::new());
    }
    Ok(split_top(inner)?.iter().map(|s| unquote(s.trim())).collect())
}

/// Type names a `::cast` may name: pg_catalog's, by `typname` or the SQL spelling.
fn cast_type(name: &str, known: &std::collections::HashSet<String>) -> Result<String, ApiError> {
    let alias = match name {
        "integer" | "int" => "int4",
        "bigint" => "int8",
        "smallint" => "int2",
        "boolean" => "bool",
        "real" => "float4",
        "double precision" | "float" => "float8",
        "decimal" => "numeric",
        "character varying" => "varchar",
        "timestamptz" => "timestamptz",
        other => other,
    };
    if known.contains(alias) {
        Ok(format!("\"pg_catalog\".{}", quote(alias)))
    } else {
        Err(ApiError::new(StatusCode::BAD_REQUEST, "42704", format!("type \"{name}\" does not exist")))
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Builds SQL for the plan over the relation `"pgrst_call"` with `columns`.
pub struct Builder<'a> {
    pub columns: &'a [Column],
    pub types: &'a std::collections::HashSet<String>,
    pub binds: &'a mut Vec<Bind>,
    pub relation: &'a str,
}

impl Builder<'_> {
    fn bind(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }

    pub fn bind_int(&mut self, n: i64) -> String {
        self.bind(Bind::Int(n))
    }

    fn column(&self, name: &str) -> Result<&Column, ApiError> {
        self.columns.iter().find(|c| c.name == name).ok_or_else(|| {
            ApiError::new(StatusCode::BAD_REQUEST, "42703", format!("column {}.{name} does not exist", self.relation))
        })
    }

    /// The field's SQL and its type (for casting compared values).
    fn field(&mut self, f: &Field) -> Result<(String, String), ApiError> {
        let c = self.column(&f.col)?;
        let (mut sql, mut ty) = (format!("\"pgrst_call\".{}", quote(&c.name)), c.type_sql.clone());
        for (arrow, key) in &f.path {
            let p = self.bind(Bind::Text(key.clone()));
            let k = if key.parse::<i32>().is_ok() { format!("{p}::text::int4") } else { format!("{p}::text") };
            match arrow {
                Arrow::Json => {
                    sql = format!("({sql}::jsonb -> {k})");
                    ty = "jsonb".into();
                }
                Arrow::Text => {
                    sql = format!("({sql}::jsonb ->> {k})");
                    ty = "text".into();
                }
            }
        }
        Ok((sql, ty))
    }

    /// `select` list and the output names, or None for the default projection.
    pub fn select(&mut self, plan: &ReadPlan) -> Result<Option<(String, Vec<String>)>, ApiError> {
        let Some(items) = &plan.select else { return Ok(None) };
        let (mut sql, mut names) = (Vec::new(), Vec::new());
        for it in items {
            let (mut expr, _) = self.field(&it.field)?;
            if let Some(c) = &it.cast {
                expr = format!("({expr})::{}", cast_type(c, self.types)?);
            }
            let name = it.alias.clone().unwrap_or_else(|| it.field.path.last().map(|(_, k)| k.clone()).unwrap_or(it.field.col.clone()));
            sql.push(format!("{expr} as {}", quote(&name)));
            names.push(name);
        }
        Ok(Some((sql.join(", "), names)))
    }

    /// The WHERE condition (`true` when there is none).
    pub fn conditions(&mut self, plan: &ReadPlan) -> Result<String, ApiError> {
        if plan.conds.is_empty() {
            return Ok("true".into());
        }
        let parts: Result<Vec<String>, ApiError> = plan.conds.iter().map(|c| self.cond(c)).collect();
        Ok(parts?.join(" and "))
    }

    fn cond(&mut self, c: &Cond) -> Result<String, ApiError> {
        match c {
            Cond::Group { negate, and, items } => {
                let parts: Result<Vec<String>, ApiError> = items.iter().map(|c| self.cond(c)).collect();
                let joined = parts?.join(if *and { " and " } else { " or " });
                let joined = if joined.is_empty() { "true".to_string() } else { joined };
                Ok(if *negate { format!("not ({joined})") } else { format!("({joined})") })
            }
            Cond::Leaf { field, negate, op, modifier, value } => {
                let (lhs, ty) = self.field(field)?;
                let sql = self.leaf(&lhs, &ty, op, modifier.as_deref(), value)?;
                Ok(if *negate { format!("not ({sql})") } else { format!("({sql})") })
            }
        }
    }

    fn leaf(&mut self, lhs: &str, ty: &str, op: &str, modifier: Option<&str>, value: &str) -> Result<String, ApiError> {
        let cmp = |op: &str| match op {
            "eq" => "=",
            "neq" => "<>",
            "gt" => ">",
            "gte" => ">=",
            "lt" => "<",
            "lte" => "<=",
            "like" => "like",
            "ilike" => "ilike",
            "match" => "~",
            "imatch" => "~*",
            "cs" => "@>",
            "cd" => "<@",
            "ov" => "&&",
            "sl" => "<<",
            "sr" => ">>",
            "nxr" => "&<",
            "nxl" => "&>",
            "adj" => "-|-",
            _ => "=",
        };
        let textual = matches!(op, "like" | "ilike" | "match" | "imatch");
        let pattern = |v: &str| if matches!(op, "like" | "ilike") { v.replace('*', "%") } else { v.to_string() };
        Ok(match op {
            "is" => {
                let what = match value.to_ascii_lowercase().as_str() {
                    "null" => "null",
                    "not_null" => "not null",
                    "true" => "true",
                    "false" => "false",
                    "unknown" => "unknown",
                    _ => {
                        return Err(parse_error(
                            &format!("filter (is.{value})"),
                            "expecting null, not_null, true, false or unknown",
                        ))
                    }
                };
                format!("{lhs} is {what}")
            }
            "in" => {
                let items = parse_in_list(value)?;
                let p = self.bind(Bind::TextArray(items));
                format!("{lhs} = any({p}::text[]::{ty}[])")
            }
            "isdistinct" => {
                let p = self.bind(Bind::Text(value.to_string()));
                format!("{lhs} is distinct from {p}::text::{ty}")
            }
            "fts" | "plfts" | "phfts" | "wfts" => {
                let f = match op {
                    "fts" => "to_tsquery",
                    "plfts" => "plainto_tsquery",
                    "phfts" => "phraseto_tsquery",
                    _ => "websearch_to_tsquery",
                };
                let v = self.bind(Bind::Text(value.to_string()));
                match modifier {
                    Some(lang) => {
                        let l = self.bind(Bind::Text(lang.to_string()));
                        format!("{lhs} @@ pg_catalog.{f}({l}::text::regconfig, {v}::text)")
                    }
                    None => format!("{lhs} @@ pg_catalog.{f}({v}::text)"),
                }
            }
            _ => match modifier {
                Some(q @ ("any" | "all")) => {
                    // value is `{a,b}`: a PostgreSQL array literal.
                    let p = self.bind(Bind::Text(pattern(value)));
                    if textual {
                        format!("{lhs}::text {} {q}({p}::text::text[])", cmp(op))
                    } else {
                        format!("{lhs} {} {q}({p}::text::{ty}[])", cmp(op))
                    }
                }
                _ => {
                    let p = self.bind(Bind::Text(pattern(value)));
                    if textual {
                        format!("{lhs}::text {} {p}::text", cmp(op))
                    } else {
                        format!("{lhs} {} {p}::text::{ty}", cmp(op))
                    }
                }
            },
        })
    }

    /// `order by ...`, or empty.
    pub fn order(&mut self, plan: &ReadPlan) -> Result<String, ApiError> {
        if plan.order.is_empty() {
            return Ok(String::new());
        }
        let mut terms = Vec::new();
        for t in &plan.order {
            let (f, _) = self.field(&t.field)?;
            let nulls = match t.nulls_first {
                Some(true) => " nulls first",
                Some(false) => " nulls last",
                None => "",
            };
            terms.push(format!("{f} {}{nulls}", if t.desc { "desc" } else { "asc" }));
        }
        Ok(format!(" order by {}", terms.join(", ")))
    }
}

/// The result columns the grammar may name: the function's, or for a scalar
/// function one column named after it.
pub fn columns_of(r: &Routine) -> Vec<Column> {
    if r.columns.is_empty() && r.returns != super::catalog::Returns::Composite {
        vec![Column { name: r.name.clone(), type_sql: r.return_type.clone() }]
    } else {
        r.columns.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    }

    #[test]
    fn grammar_builds_bound_sql() {
        let plan = ReadPlan::parse(&pairs("select=n:id,data->>k::int&id=gt.1&or=(id.eq.5,name.like.*x*)&order=id.desc.nullslast&limit=2")).unwrap();
        let cols = vec![
            Column { name: "id".into(), type_sql: "integer".into() },
            Column { name: "name".into(), type_sql: "text".into() },
            Column { name: "data".into(), type_sql: "jsonb".into() },
        ];
        let types: std::collections::HashSet<String> = ["int4".to_string()].into();
        let mut binds = Vec::new();
        let mut b = Builder { columns: &cols, types: &types, binds: &mut binds, relation: "f" };
        let (sel, names) = b.select(&plan).unwrap().unwrap();
        let w = b.conditions(&plan).unwrap();
        let o = b.order(&plan).unwrap();
        assert_eq!(names, ["n", "k"]);
        assert!(sel.contains("::\"pg_catalog\".\"int4\""), "{sel}");
        assert_eq!(w, "(\"pgrst_call\".\"id\" > $2::text::integer) and ((\"pgrst_call\".\"id\" = $3::text::integer) or (\"pgrst_call\".\"name\"::text like $4::text))");
        assert_eq!(o, " order by \"pgrst_call\".\"id\" desc nulls last");
        assert_eq!(binds[3], Bind::Text("%x%".into()));
        // Unknown columns and types never reach SQL.
        let bad = ReadPlan::parse(&pairs("select=id;drop")).unwrap();
        let mut b = Builder { columns: &cols, types: &types, binds: &mut binds, relation: "f" };
        assert_eq!(b.select(&bad).unwrap_err().code, "42703");
        let bad = ReadPlan::parse(&pairs("select=id::int;drop")).unwrap();
        assert_eq!(b.select(&bad).unwrap_err().code, "42704");
        assert_eq!(ReadPlan::parse(&pairs("id=John")).unwrap_err().code, "PGRST100");
        assert!(is_filter_value("not.eq.1") && is_filter_value("fts(english).x") && !is_filter_value("John") && !is_filter_value("eq"));
    }
}
