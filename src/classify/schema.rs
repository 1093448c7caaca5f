//! The schemas the two rule languages are checked against before they are read: every element and attribute of a
//! rule file must be one the engine knows. An unknown one is an error at its `file:line:col`, with the allowed name
//! it is close to ("did you mean"), because a misspelt attribute that is silently ignored changes what a rule means
//! (`<any minmatch="1">` drops a keyword requirement). What the Purview schema allows but this engine does not
//! implement is a warning that names it.

use super::diag::Diagnostics;
use crate::xml::Element;

/// One element's allowed content.
struct Spec {
    name: &'static str,
    /// Attributes read by the engine.
    attrs: &'static [&'static str],
    /// Attributes the schema allows but the engine does not implement (warning).
    unimplemented_attrs: &'static [&'static str],
    /// Child elements read by the engine.
    children: &'static [&'static str],
    /// Child elements the schema allows but the engine does not implement (warning; not checked further).
    unimplemented_children: &'static [&'static str],
}

const fn spec(
    name: &'static str,
    attrs: &'static [&'static str],
    unimplemented_attrs: &'static [&'static str],
    children: &'static [&'static str],
    unimplemented_children: &'static [&'static str],
) -> Spec {
    Spec { name, attrs, unimplemented_attrs, children, unimplemented_children }
}

/// fci-connector's `<ClassificationRules>` (docs/RULES.md).
const FSRM: &[Spec] = &[
    spec("ClassificationRules", &[], &[], &["Settings", "PropertyDefinition", "Rule", "ProtectionPolicy"], &[]),
    spec("Settings", &["ignoreTestCardNumbers"], &[], &[], &[]),
    spec("PropertyDefinition", &["name", "type"], &[], &["Value"], &[]),
    spec("Value", &[], &[], &[], &[]),
    spec(
        "Rule",
        &["name", "enabled", "property", "value", "classifier", "match"],
        &[],
        &["Scope", "String", "Regex", "Parameter", "Function", "Entity"],
        &[],
    ),
    spec("Scope", &[], &[], &["Folder", "IncludeFolder", "ExcludeFolder", "FileNames", "ExcludeFileNames"], &[]),
    spec("Folder", &[], &[], &[], &[]),
    spec("IncludeFolder", &[], &[], &[], &[]),
    spec("ExcludeFolder", &[], &[], &[], &[]),
    spec("FileNames", &[], &[], &[], &[]),
    spec("ExcludeFileNames", &[], &[], &[], &[]),
    spec("String", &["min", "max", "caseSensitive"], &[], &[], &[]),
    spec("Regex", &["min", "max", "caseSensitive"], &[], &[], &[]),
    spec("Parameter", &[], &[], &[], &[]),
    spec("Function", &["name", "min", "max"], &[], &[], &[]),
    spec("Entity", &["name", "id", "minConfidence", "minCount", "maxCount"], &[], &[], &[]),
    spec("ProtectionPolicy", &["defaultTemplate"], &[], &["Protect"], &[]),
    spec("Protect", &["property", "value", "atLeast", "template"], &[], &[], &[]),
];

/// Microsoft Purview rule packages (namespace `http://schemas.microsoft.com/office/2011/mce`, RulePackageTypes.xsd
/// as published in [MS-OXWCONFIG] 7.8 and Microsoft Learn's "Create custom sensitive information types with
/// PowerShell").
const PURVIEW: &[Spec] = &[
    spec("RulePackage", &[], &[], &["RulePack", "Rules"], &[]),
    spec("RulePack", &["id"], &[], &["Version", "Publisher", "Details"], &["Encryption"]),
    spec("Version", &["major", "minor", "build", "revision"], &[], &[], &[]),
    spec("Publisher", &["id"], &[], &[], &[]),
    spec("Details", &["defaultLangCode"], &[], &["LocalizedDetails"], &[]),
    spec("LocalizedDetails", &["langcode"], &[], &["PublisherName", "Name", "Description"], &[]),
    spec("PublisherName", &[], &[], &[], &[]),
    spec("Name", &["default", "langcode"], &[], &[], &[]),
    spec("Description", &["default", "langcode"], &[], &[], &[]),
    spec(
        "Rules",
        &[],
        &[],
        &["Entity", "Regex", "Keyword", "Validators", "Filters", "LocalizedStrings"],
        &["Affinity", "Version", "Fingerprint", "ExtendedKeyword"],
    ),
    spec(
        "Entity",
        &["id", "patternsProximity", "recommendedConfidence", "filters"],
        &["relaxProximity", "workload"],
        &["Pattern"],
        &[],
    ),
    spec("Pattern", &["confidenceLevel", "filters"], &["proximity"], &["IdMatch", "Match", "Any"], &[]),
    spec("IdMatch", &["idRef"], &[], &[], &[]),
    spec("Match", &["idRef", "minCount", "uniqueResults"], &[], &[], &[]),
    spec("Any", &["minMatches", "maxMatches"], &[], &["Match", "Any"], &[]),
    spec("Regex", &["id", "validators"], &["description"], &[], &[]),
    spec("Keyword", &["id"], &[], &["Group"], &[]),
    spec("Group", &["matchStyle"], &[], &["Term"], &[]),
    spec("Term", &["caseSensitive"], &[], &[], &[]),
    spec("Validators", &["id"], &[], &["Validator"], &[]),
    spec("Validator", &["type"], &[], &["Param"], &[]),
    spec("Param", &["name"], &[], &[], &[]),
    spec("Filters", &["id"], &[], &["Filter"], &[]),
    spec("Filter", &["type", "direction", "logic", "textProcessorId"], &[], &[], &[]),
    spec("LocalizedStrings", &[], &[], &["Resource"], &[]),
    spec("Resource", &["idRef"], &[], &["Name", "Description"], &[]),
];

/// Check an FSRM-style rule file (root `<ClassificationRules>`) against its schema.
pub fn check_fsrm(root: &Element, diags: &mut Diagnostics<'_>) {
    check(FSRM, root, diags);
}

/// Check a Purview rule package (root `<RulePackage>`) against the schema the engine implements.
pub fn check_purview(root: &Element, diags: &mut Diagnostics<'_>) {
    check(PURVIEW, root, diags);
}

fn check(table: &[Spec], el: &Element, diags: &mut Diagnostics<'_>) {
    check_as(table, &el.name, el, diags);
}

/// Check `el` as the element `name` of `table` (its own name, or the one it was probably meant to be).
fn check_as(table: &[Spec], name: &str, el: &Element, diags: &mut Diagnostics<'_>) {
    let Some(spec) = table.iter().find(|s| s.name == name) else {
        return;
    };
    for (attr, _) in &el.attributes {
        if spec.attrs.contains(&attr.as_str()) {
            continue;
        }
        if spec.unimplemented_attrs.contains(&attr.as_str()) {
            diags.warning(el, format!("attribute {attr} on <{}> is not implemented and is ignored", el.name));
            continue;
        }
        let allowed = spec.attrs.iter().chain(spec.unimplemented_attrs);
        let hint = suggestion(attr, allowed).map(|s| format!("; did you mean {s}?")).unwrap_or_default();
        let known = if spec.attrs.is_empty() {
            "it takes no attributes".to_string()
        } else {
            format!("allowed: {}", spec.attrs.join(", "))
        };
        diags.error(el, format!("unknown attribute {attr} on <{}>{hint} ({known})", el.name));
    }
    for child in &el.children {
        if spec.children.contains(&child.name.as_str()) {
            check(table, child, diags);
            continue;
        }
        if spec.unimplemented_children.contains(&child.name.as_str()) {
            // Affinity has its own, more precise warning where the package is read.
            if child.name != "Affinity" {
                diags.warning(child, format!("<{}> in <{}> is not implemented and is skipped", child.name, el.name));
            }
            continue;
        }
        let allowed = spec.children.iter().chain(spec.unimplemented_children);
        let meant = suggestion(&child.name, allowed);
        let hint = meant.map(|s| format!("; did you mean <{s}>?")).unwrap_or_default();
        let known = if spec.children.is_empty() {
            "it has no child elements".to_string()
        } else {
            format!("allowed: {}", spec.children.join(", "))
        };
        diags.error(child, format!("unknown element <{}> in <{}>{hint} ({known})", child.name, el.name));
        // Its attributes and children are checked as what it was probably meant to be, so every misspelling of
        // `<any minmatch="1">` is reported at once.
        if let Some(meant) = meant {
            check_as(table, meant, child, diags);
        }
    }
}

/// The allowed name closest to `name` when it is close: the same but for case, or at most 2 edits apart.
fn suggestion<'a>(name: &str, allowed: impl Iterator<Item = &'a &'static str>) -> Option<&'static str> {
    let lower = name.to_lowercase();
    allowed
        .map(|a| (edit_distance(&lower, &a.to_lowercase()), *a))
        .filter(|&(d, _)| d <= 2)
        .min_by_key(|&(d, _)| d)
        .map(|(_, a)| a)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn errors(table: &[Spec], xml: &str) -> Vec<String> {
        let root = crate::xml::parse(xml).unwrap();
        let file = Path::new("r.xml");
        let mut diags = Diagnostics::new(file);
        check(table, &root, &mut diags);
        diags.items.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn distance() {
        assert_eq!(edit_distance("minconfidance", "minconfidence"), 1);
        assert_eq!(edit_distance("minmatch", "minmatches"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn misspellings_are_errors_with_a_suggestion() {
        let e = errors(
            FSRM,
            "<ClassificationRules>\n<Rule name=\"r\" property=\"P\" value=\"Yes\">\n  <Entity name=\"E\" minConfidance=\"65\"/>\n  <String casesensitive=\"false\">x</String>\n  <Regex minn=\"2\">x</Regex>\n</Rule>\n</ClassificationRules>",
        );
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(
            e[0].starts_with(
                "r.xml:3:3: error: unknown attribute minConfidance on <Entity>; did you mean minConfidence?"
            )
        );
        assert!(
            e[1].contains("r.xml:4:3: error: unknown attribute casesensitive on <String>; did you mean caseSensitive?")
        );
        assert!(e[2].contains("r.xml:5:3: error: unknown attribute minn on <Regex>; did you mean min?"));
    }

    #[test]
    fn purview_any_minmatch_is_an_error_and_unimplemented_parts_warn() {
        let e = errors(
            PURVIEW,
            "<RulePackage><Rules>\n<Entity id=\"x\" relaxProximity=\"false\">\n<Pattern confidenceLevel=\"75\" proximity=\"300\">\n<IdMatch idRef=\"a\"/>\n<any minmatch=\"1\"><Match idRef=\"k\"/></any>\n</Pattern></Entity>\n<Fingerprint id=\"f\"/>\n</Rules></RulePackage>",
        );
        assert_eq!(e.len(), 5, "{e:?}");
        assert!(e[0].contains("2:1: warning: attribute relaxProximity on <Entity> is not implemented"));
        assert!(e[1].contains("3:1: warning: attribute proximity on <Pattern> is not implemented"));
        assert!(e[2].contains("5:1: error: unknown element <any> in <Pattern>; did you mean <Any>?"));
        assert!(e[3].contains("5:1: error: unknown attribute minmatch on <any>; did you mean minMatches?"));
        assert!(e[4].contains("7:1: warning: <Fingerprint> in <Rules> is not implemented"));
    }

    #[test]
    fn a_name_far_from_every_allowed_one_has_no_suggestion() {
        let e = errors(FSRM, "<ClassificationRules><Bogus/></ClassificationRules>");
        assert_eq!(e.len(), 1);
        assert!(e[0].contains("unknown element <Bogus> in <ClassificationRules> (allowed: Settings,"), "{e:?}");
    }
}
