//! `--match` selectors: PromQL series selectors (`up{job="api"}`, `{__name__=~"http_.*"}`),
//! parsed by the `promql-parser` crate and turned into cairn matchers.

use cairn_model::Matcher;
use promql_parser::label::MatchOp;
use promql_parser::parser::Expr;

/// Parses one series selector into its matchers (the metric name as `__name__`).
///
/// # Errors
/// A message naming the selector and what is wrong with it.
pub(crate) fn parse(selector: &str) -> Result<Vec<Matcher>, String> {
    let expr =
        promql_parser::parser::parse(selector).map_err(|e| format!("--match {selector:?}: {e}"))?;
    let Expr::VectorSelector(vs) = expr else {
        return Err(format!(
            "--match {selector:?}: a series selector is needed, like up{{job=\"api\"}}"
        ));
    };
    if !vs.matchers.or_matchers.is_empty() {
        return Err(format!(
            "--match {selector:?}: `or` inside a selector is not supported"
        ));
    }
    let mut out = Vec::new();
    if let Some(name) = &vs.name {
        out.push(Matcher::equal("__name__", name.clone()));
    }
    for m in &vs.matchers.matchers {
        let matcher = match &m.op {
            MatchOp::Equal => Matcher::equal(m.name.clone(), m.value.clone()),
            MatchOp::NotEqual => Matcher::not_equal(m.name.clone(), m.value.clone()),
            MatchOp::Re(_) => Matcher::regex(m.name.clone(), m.value.clone())
                .map_err(|e| format!("--match {selector:?}: {e}"))?,
            MatchOp::NotRe(_) => Matcher::not_regex(m.name.clone(), m.value.clone())
                .map_err(|e| format!("--match {selector:?}: {e}"))?,
        };
        out.push(matcher);
    }
    if !out.is_empty() && out.iter().all(Matcher::matches_empty) {
        return Err(format!(
            "--match {selector:?}: a selector needs at least one matcher that does not match the empty string"
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors() {
        let m = parse(r#"up{job="api", code=~"5.."}"#).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].name(), "__name__");
        assert!(parse("rate(x[5m])").is_err());
        assert!(parse(r#"{a=~".*"}"#).is_err());
        assert!(parse("up{").is_err());
    }
}
