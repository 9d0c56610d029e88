//! `exhibit admin`: bootstrap the HTTP API's organisations and tokens, in
//! the same access state `exhibit serve` reads (`[api] state_uri`, by
//! default `.exhibit/access.sqlite` inside a local store).

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use exhibit_app::access::{AccessState, CaseClaim, IssuedToken, Role, open_access_state, password, token};
use exhibit_core::ids::CaseId;
use time::OffsetDateTime;

use crate::config::Config;

#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Organisations: forces, the prosecution, defence firms, archives.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Users who sign in to the dashboard with a password.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Give a case that is already in the store (ingested with the CLI) to
    /// an organisation, so its users reach it through the API.
    #[command(subcommand)]
    Case(CaseCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum OrgCommand {
    /// Add an organisation.
    Add {
        /// Its name, unique without regard to letter case.
        name: String,
    },
    /// List the organisations.
    List,
}

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Add a user (or set an existing user's password). The password is
    /// read from --password-file, or the first line of stdin; never from
    /// the command line, where other users of the machine could read it.
    /// They sign in to the dashboard with their name, which must be
    /// unique across organisations (letter case does not count).
    Add {
        /// The user's organisation.
        #[arg(long)]
        org: String,
        /// submitter, reviewer, auditor or admin.
        #[arg(long)]
        role: Role,
        /// The name they sign in with.
        #[arg(long)]
        name: String,
        /// A file whose first line is the password (at least 12 characters).
        #[arg(long, value_name = "FILE")]
        password_file: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Make a token for a user (made with the role if new) and print it
    /// alone on stdout. It is shown once and stored only as its SHA-256;
    /// its ID (printed on stderr) names it for `revoke`.
    Add {
        /// The user's organisation.
        #[arg(long)]
        org: String,
        /// submitter, reviewer, auditor or admin.
        #[arg(long)]
        role: Role,
        /// The user's name (default: the role's name).
        #[arg(long)]
        user: Option<String>,
        /// When it stops working: an RFC 3339 time (2027-01-31T00:00:00Z)
        /// or a period from now (90d, 12h, 30m).
        #[arg(long, value_name = "WHEN")]
        expires: Option<String>,
    },
    /// List the tokens: ID, organisation, user, role, state (active,
    /// expired or revoked, with when) and expiry; never a secret.
    List {
        /// Only this organisation's tokens.
        #[arg(long)]
        org: Option<String>,
    },
    /// Revoke a token by its ID (or the token itself): it stops working at once.
    Revoke {
        /// The 12-hex-digit ID printed when it was made.
        id: String,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum CaseCommand {
    /// Give a case to an organisation. Its users know it by a name of
    /// their organisation's own (by default the case ID), which must not
    /// name another of its cases.
    Add {
        /// The organisation.
        #[arg(long)]
        org: String,
        /// The name the organisation's users will know it by (default: the case ID).
        #[arg(long)]
        name: Option<CaseId>,
        /// The case ID (the storage ID, as `exhibit` commands take it).
        case: CaseId,
    },
    /// List the cases given to organisations: case ID, owner and the name
    /// the owner knows it by, tab-separated under a header.
    List,
}

/// Opens the access state the configuration names.
pub async fn open_access(config: &Config) -> anyhow::Result<Arc<dyn AccessState>> {
    open_access_state(config.api.state_uri.as_deref(), &config.store.uri)
        .await
        .context("cannot open the API's access state ([api] state_uri)")
}

pub async fn run(command: AdminCommand, config: Config) -> anyhow::Result<ExitCode> {
    let state = open_access(&config).await?;
    match command {
        AdminCommand::Org(OrgCommand::Add { name }) => {
            let org = state.add_org(&name).await?;
            eprintln!("exhibit admin: organisation {:?} added", org.name);
        }
        AdminCommand::Org(OrgCommand::List) => {
            for org in state.orgs().await? {
                println!("{}", crate::terminal::escape_name(&org.name));
            }
        }
        AdminCommand::User(UserCommand::Add { org, role, name, password_file }) => {
            let password = read_password(password_file.as_deref())?;
            let org = find_org(state.as_ref(), &org).await?;
            let user = state.user(&org, &name, role).await?;
            let phc = tokio::task::spawn_blocking(move || password::hash(&password))
                .await
                .context("the password hashing stopped")??;
            state.set_password(&user, &phc, OffsetDateTime::now_utc()).await?;
            eprintln!("exhibit admin: user {} ({}), role {}, may sign in to the dashboard", user.name, org.name, role);
        }
        AdminCommand::Token(TokenCommand::Add { org, role, user, expires }) => {
            let expires_at = expires.as_deref().map(|w| parse_expiry(w, OffsetDateTime::now_utc())).transpose()?;
            let org = find_org(state.as_ref(), &org).await?;
            let user = state.user(&org, user.as_deref().unwrap_or(role.as_str()), role).await?;
            let issued = IssuedToken::generate();
            state.add_token(&user, &issued, expires_at).await?;
            eprintln!("exhibit admin: token {} for {} ({}), role {}", issued.id, user.name, org.name, user.role);
            println!("{}", issued.text);
        }
        AdminCommand::Token(TokenCommand::List { org }) => list_tokens(state.as_ref(), org.as_deref()).await?,
        AdminCommand::Token(TokenCommand::Revoke { id }) => {
            let id = id.strip_prefix(token::PREFIX).map_or(id.as_str(), |rest| rest.split('_').next().unwrap_or(""));
            if !token::is_token_id(id) || !state.revoke_token(id, OffsetDateTime::now_utc()).await? {
                anyhow::bail!("no token with ID {id:?}; the ID is the 12 hex digits printed when it was made");
            }
            eprintln!("exhibit admin: token {id} revoked");
        }
        AdminCommand::Case(CaseCommand::Add { org, name, case }) => {
            let store = crate::session::open_store(&config)?;
            if store.head(&exhibit_core::layout::ledger_key(&case, 1)).await.is_err() {
                anyhow::bail!("no case {case} is in the store; give one that `exhibit cases` lists");
            }
            add_case(state.as_ref(), &org, name.as_ref().unwrap_or(&case), &case).await?
        }
        AdminCommand::Case(CaseCommand::List) => list_cases(state.as_ref()).await?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Gives the case `case` (a storage ID) to `org` under `name`.
async fn add_case(state: &dyn AccessState, org: &str, name: &CaseId, case: &CaseId) -> anyhow::Result<()> {
    let org = find_org(state, org).await?;
    if let Some(why) = name.non_portable() {
        anyhow::bail!("the name {name} cannot be used: {why}; choose another with --name");
    }
    let org_name = crate::terminal::escape_name(&org.name);
    match state.add_case(case, name, org.id).await? {
        CaseClaim::Created | CaseClaim::AlreadyOwned => {
            eprintln!("exhibit admin: case {case} belongs to {org_name}, who know it as {name}")
        }
        CaseClaim::NameInUse => anyhow::bail!(
            "{org_name} already has a case named {name}; give this one another name with --name (see `exhibit admin case list`)"
        ),
        CaseClaim::IdTaken => {
            let owner = state.all_cases().await?.into_iter().find(|c| c.case == *case).map(|c| c.owner);
            let owner =
                owner.map_or_else(|| "an organisation".to_owned(), |o| crate::terminal::escape_name(&o).into_owned());
            anyhow::bail!("case {case} already belongs to {owner} (see `exhibit admin case list`)")
        }
    }
    Ok(())
}

/// One tab-separated line per case given to an organisation: storage ID,
/// owner, name.
async fn list_cases(state: &dyn AccessState) -> anyhow::Result<()> {
    println!("case\towner\tname");
    for case in state.all_cases().await? {
        println!("{}\t{}\t{}", case.case, crate::terminal::escape_name(&case.owner), case.name);
    }
    Ok(())
}

/// One tab-separated line per token, under a header line.
async fn list_tokens(state: &dyn AccessState, org: Option<&str>) -> anyhow::Result<()> {
    let only = match org {
        Some(name) => Some(find_org(state, name).await?.id),
        None => None,
    };
    let now = OffsetDateTime::now_utc();
    println!("id\torg\tuser\trole\tstate\texpires");
    for record in state.tokens().await?.into_iter().filter(|t| only.is_none_or(|id| t.user.org.id == id)) {
        let when = |t: OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        let state = match (record.revoked_at, record.expires_at) {
            (Some(at), _) => format!("revoked {}", when(at)),
            (None, Some(at)) if at <= now => format!("expired {}", when(at)),
            _ => "active".to_owned(),
        };
        let expires = record.expires_at.map_or_else(|| "never".to_owned(), when);
        let (org, user) =
            (crate::terminal::escape_name(&record.user.org.name), crate::terminal::escape_name(&record.user.name));
        println!("{}\t{org}\t{user}\t{}\t{state}\t{expires}", record.id, record.user.role);
    }
    Ok(())
}

async fn find_org(state: &dyn AccessState, name: &str) -> anyhow::Result<exhibit_app::access::Org> {
    state.org(name).await?.with_context(|| format!("no organisation {name:?}; add it with `exhibit admin org add`"))
}

/// The first line of `file`, or of stdin; the line ending is not part of it.
fn read_password(file: Option<&std::path::Path>) -> anyhow::Result<String> {
    let text = match file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the password file {}", path.display()))?,
        None => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).context("cannot read the password from stdin")?;
            line
        }
    };
    let password = text.lines().next().unwrap_or_default().to_owned();
    password::check_new(&password)?;
    Ok(password)
}

/// An RFC 3339 time, or `N` followed by `d`, `h` or `m` from `now`; never
/// in the past.
fn parse_expiry(text: &str, now: OffsetDateTime) -> anyhow::Result<OffsetDateTime> {
    let bad = || anyhow::anyhow!("--expires {text:?}: give an RFC 3339 time (2027-01-31T00:00:00Z) or 90d, 12h, 30m");
    let at = match OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339) {
        Ok(at) => at,
        Err(_) => {
            let unit = text.chars().last().ok_or_else(bad)?;
            let n: i64 = text[..text.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
            let seconds_per = match unit {
                'd' => 86_400,
                'h' => 3_600,
                'm' => 60,
                _ => return Err(bad()),
            };
            let seconds = n.checked_mul(seconds_per).ok_or_else(bad)?;
            now.checked_add(time::Duration::seconds(seconds)).ok_or_else(bad)?
        }
    };
    if at <= now {
        anyhow::bail!("--expires {text:?} is not in the future");
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_as_a_time_or_a_period() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        assert_eq!(parse_expiry("90d", now).unwrap(), now + time::Duration::days(90));
        assert_eq!(parse_expiry("12h", now).unwrap(), now + time::Duration::hours(12));
        assert_eq!(parse_expiry("2030-01-01T00:00:00Z", now).unwrap().year(), 2030);
        for bad in
            ["", "d", "10x", "-5d", "0m", "2020-01-01T00:00:00Z", "99999999999999999999d", "999999999999999d", "5é"]
        {
            assert!(parse_expiry(bad, now).is_err(), "{bad:?}");
        }
    }
}
