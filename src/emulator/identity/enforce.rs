//! Enforcement on the Graph endpoints: the tokens this identity platform issued, checked.
use super::*;

/// Checks a bearer token against a resource when enforcement is on. `origin` is the
/// `http(s)://host:port` the request reached. Ok: whether the token is app-only.
pub(crate) fn enforce(
    sh: &Shared,
    ctx: &Ctx,
    origin: &str,
    bearer: &str,
    resource: Resource,
) -> Result<bool, Box<Response>> {
    let parts: Vec<&str> = bearer.split('.').collect();
    let [h, p, s] = parts[..] else {
        return Err(Box::new(unauthorized(
            ctx,
            "IDX14100: JWT is not well formed, there are no dots (.).",
        )));
    };
    let signing_input = format!("{h}.{p}");
    let sig = B64.decode(s).unwrap_or_default();
    if aws_lc_rs::hmac::verify(&hmac_key(sh), signing_input.as_bytes(), &sig).is_err() {
        return Err(Box::new(unauthorized(
            ctx,
            "Invalid signature: the token was not issued by this tenant's identity platform.",
        )));
    }
    let claims: Value = B64
        .decode(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let now = ctx.now.timestamp();
    if claims["exp"].as_i64().is_none_or(|exp| exp <= now) {
        return Err(Box::new(unauthorized(
            ctx,
            "Lifetime validation failed, the token is expired.",
        )));
    }
    if claims["nbf"].as_i64().is_some_and(|nbf| nbf > now + 300) {
        return Err(Box::new(unauthorized(
            ctx,
            "Lifetime validation failed, the token is not yet valid.",
        )));
    }
    let aud = claims["aud"].as_str().unwrap_or("").trim_end_matches('/');
    let local = sh.origin(None);
    if !(aud.eq_ignore_ascii_case(origin)
        || aud.eq_ignore_ascii_case(&local)
        || aud.eq_ignore_ascii_case("https://graph.microsoft.com")
        || aud == GRAPH_APP_ID)
    {
        return Err(Box::new(unauthorized(ctx, "Invalid audience.")));
    }
    let app_only = claims["idtyp"].as_str() == Some("app");
    let granted: Vec<String> = if app_only {
        claims["roles"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    } else {
        claims["scp"]
            .as_str()
            .unwrap_or("")
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    let has = |names: &[&str]| {
        granted
            .iter()
            .any(|g| names.iter().any(|n| n.eq_ignore_ascii_case(g)))
    };
    let denied = |code: &str, msg: &str| Err(Box::new(ctx.error(StatusCode::FORBIDDEN, code, msg)));
    match resource {
        Resource::Recordings | Resource::Transcripts => {
            let perm = if resource == Resource::Recordings {
                "OnlineMeetingRecording.Read.All"
            } else {
                "OnlineMeetingTranscript.Read.All"
            };
            if !app_only {
                return denied(
                    "Forbidden",
                    &format!(
                        "This API does not support delegated permissions; it needs the application permission {perm}."
                    ),
                );
            }
            if !has(&[perm]) {
                return denied(
                    "Forbidden",
                    &format!(
                        "The application does not have the permission {perm} required for this API."
                    ),
                );
            }
        }
        Resource::Contacts => {
            if !has(&[
                "OrgContact.Read.All",
                "Directory.Read.All",
                "Directory.ReadWrite.All",
            ]) {
                return denied(
                    "Authorization_RequestDenied",
                    "Insufficient privileges to complete the operation.",
                );
            }
        }
        Resource::Groups => {
            if !has(&[
                "GroupMember.Read.All",
                "Group.Read.All",
                "Directory.Read.All",
                "GroupMember.ReadWrite.All",
                "Group.ReadWrite.All",
                "Directory.ReadWrite.All",
            ]) {
                return denied(
                    "Authorization_RequestDenied",
                    "Insufficient privileges to complete the operation.",
                );
            }
        }
        Resource::Applications | Resource::ServicePrincipals | Resource::Devices => {
            let names: &[&str] = if resource == Resource::Devices {
                &[
                    "Device.Read.All",
                    "Directory.Read.All",
                    "Directory.ReadWrite.All",
                ]
            } else {
                &[
                    "Application.Read.All",
                    "Application.ReadWrite.All",
                    "Application.ReadWrite.OwnedBy",
                    "Directory.Read.All",
                    "Directory.ReadWrite.All",
                    "Directory.AccessAsUser.All",
                ]
            };
            if !has(names) {
                return denied(
                    "Authorization_RequestDenied",
                    "Insufficient privileges to complete the operation.",
                );
            }
        }
        Resource::AdministrativeUnits
        | Resource::DirectoryRoles
        | Resource::Oauth2PermissionGrants
        | Resource::DirectoryObjects => {
            // As each resource's delta page lists them (v1.0).
            let names: &[&str] = match resource {
                Resource::AdministrativeUnits => &[
                    "AdministrativeUnit.Read.All",
                    "AdministrativeUnit.ReadWrite.All",
                    "Directory.Read.All",
                    "Directory.ReadWrite.All",
                    "Directory.AccessAsUser.All",
                ],
                Resource::DirectoryRoles => &[
                    "RoleManagement.Read.Directory",
                    "RoleManagement.ReadWrite.Directory",
                    "Directory.Read.All",
                    "Directory.ReadWrite.All",
                ],
                Resource::Oauth2PermissionGrants => &[
                    "Directory.Read.All",
                    "DelegatedPermissionGrant.ReadWrite.All",
                    "Directory.ReadWrite.All",
                ],
                _ => &["Directory.Read.All", "Directory.ReadWrite.All"],
            };
            if !has(names) {
                return denied(
                    "Authorization_RequestDenied",
                    "Insufficient privileges to complete the operation.",
                );
            }
        }
        Resource::DriveItems => {
            if !has(&[
                "Files.Read",
                "Files.ReadWrite",
                "Files.Read.All",
                "Files.ReadWrite.All",
                "Sites.Read.All",
                "Sites.ReadWrite.All",
            ]) {
                return denied("accessDenied", "Access denied");
            }
        }
        Resource::Messages => {
            if !has(&[
                "Mail.ReadBasic",
                "Mail.ReadBasic.All",
                "Mail.Read",
                "Mail.ReadWrite",
            ]) {
                return denied(
                    "ErrorAccessDenied",
                    "Access is denied. Check credentials and try again.",
                );
            }
        }
        Resource::Events => {
            if !has(&[
                "Calendars.Read",
                "Calendars.ReadBasic",
                "Calendars.ReadWrite",
            ]) {
                return denied(
                    "ErrorAccessDenied",
                    "Access is denied. Check credentials and try again.",
                );
            }
        }
        Resource::MailFolders => {
            if !has(&["Mail.Read", "Mail.ReadWrite"]) {
                return denied(
                    "ErrorAccessDenied",
                    "Access is denied. Check credentials and try again.",
                );
            }
        }
        Resource::PersonalContacts => {
            if !has(&["Contacts.Read", "Contacts.ReadWrite"]) {
                return denied(
                    "ErrorAccessDenied",
                    "Access is denied. Check credentials and try again.",
                );
            }
        }
        Resource::TodoTasks => {
            // Delegated: Tasks.Read(Write); an app: Tasks.Read(Write).All.
            let names: &[&str] = if app_only {
                &["Tasks.Read.All", "Tasks.ReadWrite.All"]
            } else {
                &["Tasks.Read", "Tasks.ReadWrite"]
            };
            if !has(names) {
                return denied(
                    "Forbidden",
                    "Missing scope permissions on the request. API requires one of 'Tasks.Read, Tasks.ReadWrite' (delegated) or 'Tasks.Read.All, Tasks.ReadWrite.All' (application).",
                );
            }
        }
        Resource::Users => {
            if !has(&[
                "User.Read.All",
                "User.ReadWrite.All",
                "User.ReadBasic.All",
                "Directory.Read.All",
                "Directory.ReadWrite.All",
            ]) {
                return denied(
                    "Authorization_RequestDenied",
                    "Insufficient privileges to complete the operation.",
                );
            }
        }
    }
    Ok(app_only)
}
