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

/// Why a parameter string cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("expected Kind=Min=n;Expr=... (e.g. StringEx=Min=1;Expr=text)")]
    Shape,
    #[error("unknown expression type \"{0}\" (StringEx, StringCaseEx, RegularExpressionEx)")]
    UnknownKind(String),
    #[error("missing Expr=")]
    MissingExpr,
    #[error("Expr= is empty")]
    EmptyExpr,
    #[error("Max {max} is below Min {min}")]
    MaxBelowMin { max: u64, min: u64 },
    #[error("{key}={value} is not a number")]
    NotANumber { key: String, value: String },
    #[error("unknown key \"{0}\" (Min, Max, Expr)")]
    UnknownKey(String),
}

/// Parse one parameter string.
pub fn parse(param: &str) -> Result<Expression, ParamError> {
    let param = param.trim();
    let (kind, rest) = param.split_once('=').ok_or(ParamError::Shape)?;
    let kind = match kind.trim().to_ascii_lowercase().as_str() {
        "stringex" | "string" => ExprKind::String,
        "stringcaseex" | "stringcase" => ExprKind::StringCase,
        "regularexpressionex" | "regularexpression" => ExprKind::Regex,
        other => {
            return Err(ParamError::UnknownKind(other.to_string()));
        }
    };
    let (mut min, mut max) = (1, None);
    let mut rest = rest;
    loop {
        let (key, after) = rest.split_once('=').ok_or(ParamError::MissingExpr)?;
        match key.trim().to_ascii_lowercase().as_str() {
            "expr" => {
                if after.is_empty() {
                    return Err(ParamError::EmptyExpr);
                }
                if max.is_some_and(|m| m < min) {
                    return Err(ParamError::MaxBelowMin { max: max.unwrap_or_default(), min });
                }
                return Ok(Expression { kind, min, max, expr: after.to_string() });
            }
            k @ ("min" | "max") => {
                let (value, next) = after.split_once(';').ok_or(ParamError::MissingExpr)?;
                let n = value
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| ParamError::NotANumber { key: key.to_string(), value: value.to_string() })?;
                if k == "min" {
                    min = n
                } else {
                    max = Some(n)
                }
                rest = next;
            }
            other => return Err(ParamError::UnknownKey(other.to_string())),
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
