//! FSRM content-classifier parameter strings, accepted verbatim as `New-FsrmClassificationRule -Parameters` takes
//! them: `StringEx=Min=1;Expr=Contoso Confidential`, `StringCaseEx=Min=1;Max=5;Expr=ACME`,
//! `RegularExpressionEx=Min=10;Expr=<regex>`. `Expr=` comes last and takes the rest of the string, so the
//! expression itself may contain `;` and `=`.

/// What an expression matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExprKind {
    /// A string, case-insensitive.
    String,
    /// A string, case-sensitive.
    StringCase,
    /// A .NET regular expression (case-sensitive unless it says `(?i)`).
    Regex,
}

/// One parsed parameter: expression and occurrence bounds over the whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expression {
    pub kind: ExprKind,
    pub min: u64,
    pub max: Option<u64>,
    pub expr: String,
}

/// Parse one parameter string.
pub fn parse(param: &str) -> Result<Expression, String> {
    let param = param.trim();
    let (kind, rest) = param.split_once('=').ok_or("expected Kind=Min=n;Expr=... (e.g. StringEx=Min=1;Expr=text)")?;
    let kind = match kind.trim().to_ascii_lowercase().as_str() {
        "stringex" | "string" => ExprKind::String,
        "stringcaseex" | "stringcase" => ExprKind::StringCase,
        "regularexpressionex" | "regularexpression" => ExprKind::Regex,
        other => {
            return Err(format!("unknown expression type \"{other}\" (StringEx, StringCaseEx, RegularExpressionEx)"));
        }
    };
    let (mut min, mut max) = (1, None);
    let mut rest = rest;
    loop {
        let (key, after) = rest.split_once('=').ok_or("missing Expr=")?;
        match key.trim().to_ascii_lowercase().as_str() {
            "expr" => {
                if after.is_empty() {
                    return Err("Expr= is empty".into());
                }
                if max.is_some_and(|m| m < min) {
                    return Err(format!("Max {} is below Min {min}", max.unwrap_or_default()));
                }
                return Ok(Expression { kind, min, max, expr: after.to_string() });
            }
            k @ ("min" | "max") => {
                let (value, next) = after.split_once(';').ok_or("missing Expr=")?;
                let n = value.trim().parse::<u64>().map_err(|_| format!("{key}={value} is not a number"))?;
                if k == "min" {
                    min = n
                } else {
                    max = Some(n)
                }
                rest = next;
            }
            other => return Err(format!("unknown key \"{other}\" (Min, Max, Expr)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fsrm_strings() {
        assert_eq!(
            parse("StringEx=Min=1;Expr=Contoso Confidential").unwrap(),
            Expression { kind: ExprKind::String, min: 1, max: None, expr: "Contoso Confidential".into() }
        );
        let e = parse(r"RegularExpressionEx=Min=10;Max=20;Expr=^(?!000)\d{3};x=y$").unwrap();
        assert_eq!((e.kind, e.min, e.max, e.expr.as_str()), (ExprKind::Regex, 10, Some(20), r"^(?!000)\d{3};x=y$"));
        assert_eq!(parse("StringCaseEx=Expr=ACME").unwrap().kind, ExprKind::StringCase);
        assert!(parse("Foo=Min=1;Expr=x").is_err());
        assert!(parse("StringEx=Min=x;Expr=y").is_err());
        assert!(parse("StringEx=Min=1").is_err());
        assert!(parse("StringEx=Min=5;Max=2;Expr=y").is_err());
    }
}
