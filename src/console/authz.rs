//! Who may do what: the five roles (as groups in the organisation's directory), the
//! permissions each grants, and the check on each object (a claim's document is for
//! case handlers, an FOI request's for the FOI team, an unfiled one for triage).

use crate::model::CaseKind;

/// A role, as named in the directory's groups (`postroom-<name>`) and in
/// `POSTROOM_CONSOLE_ROLES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    CaseHandler,
    FoiOfficer,
    FoiApprover,
    Letters,
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::CaseHandler,
        Role::FoiOfficer,
        Role::FoiApprover,
        Role::Letters,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::CaseHandler => "case-handler",
            Role::FoiOfficer => "foi-officer",
            Role::FoiApprover => "foi-approver",
            Role::Letters => "letters",
            Role::Admin => "admin",
        }
    }

    /// How the role is shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::CaseHandler => "Case handler",
            Role::FoiOfficer => "FOI officer",
            Role::FoiApprover => "FOI approver",
            Role::Letters => "Letters",
            Role::Admin => "Administrator",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        let name = name.trim();
        let name = name.strip_prefix("postroom-").unwrap_or(name);
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// What the role may do.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::CaseHandler => &[Triage, ViewCases, FileDocuments, Upload],
            Role::FoiOfficer => &[ViewFoi, MoveFoi, Upload],
            Role::FoiApprover => &[ViewFoi, PublishFoi],
            Role::Letters => &[ViewLetters, SendLetters],
            Role::Admin => &[
                Triage,
                ViewCases,
                FileDocuments,
                Upload,
                ViewFoi,
                MoveFoi,
                PublishFoi,
                ViewLetters,
                SendLetters,
                Audit,
                ImportCases,
            ],
        }
    }
}

/// Something the console lets a person do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// See the unfiled inbox and its documents.
    Triage,
    /// See claims, appeals and advice cases and their documents.
    ViewCases,
    /// File a document to a case by hand.
    FileDocuments,
    /// Upload post.
    Upload,
    /// See the FOI register and its requests.
    ViewFoi,
    /// Move an FOI request's clock (clarify, extend, respond, …).
    MoveFoi,
    /// Publish a response to the disclosure log.
    PublishFoi,
    /// See letter templates and previews.
    ViewLetters,
    /// Make letters and run batches.
    SendLetters,
    /// Search the audit trail.
    Audit,
    /// Bring existing cases in from the case-management system (a CSV file).
    ImportCases,
}

/// Whether any of `roles` grants `permission`.
pub fn allows(roles: &[Role], permission: Permission) -> bool {
    roles.iter().any(|r| r.permissions().contains(&permission))
}

/// What a person needs to see a document: by its case (claims, appeals and advice for
/// case handlers, FOI for the FOI team), or triage while it is unfiled or quarantined.
pub fn to_see_document(case_ref: Option<&str>, status: Option<&str>) -> Permission {
    match (case_ref, status) {
        (Some(r), Some("filed" | "duplicate")) => to_see_case(r),
        _ => Permission::Triage,
    }
}

/// What a person needs to see a case.
pub fn to_see_case(case_ref: &str) -> Permission {
    match CaseKind::of_reference(case_ref) {
        CaseKind::Foi => Permission::ViewFoi,
        _ => Permission::ViewCases,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_knows_the_same_roles() {
        let names: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(names, crate::config::ROLE_NAMES);
    }

    #[test]
    fn roles_parse_from_groups_and_names() {
        assert_eq!(Role::parse("postroom-foi-officer"), Some(Role::FoiOfficer));
        assert_eq!(Role::parse("admin"), Some(Role::Admin));
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn documents_need_the_permission_of_their_case() {
        assert_eq!(
            to_see_document(Some("CNST/24/004512"), Some("filed")),
            Permission::ViewCases
        );
        assert_eq!(
            to_see_document(Some("FOI_7001"), Some("filed")),
            Permission::ViewFoi
        );
        assert_eq!(to_see_document(None, Some("unfiled")), Permission::Triage);
        assert!(!allows(&[Role::FoiOfficer], Permission::ViewCases));
        assert!(allows(
            &[Role::Letters, Role::CaseHandler],
            Permission::ViewCases
        ));
    }
}
