use clap::Subcommand;

use crate::flows::Context;
use crate::flows::inspect::inspect_token;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Decode a JWT and check it as a verifier would; exits 0 only when every check passes
    Inspect {
        /// The token; `-` reads it from standard input
        jwt: String,
    },
}

pub async fn run(ctx: &Context<'_>, command: TokenCommand) -> anyhow::Result<()> {
    let TokenCommand::Inspect { jwt } = command;
    let jwt = if jwt == "-" { std::io::read_to_string(std::io::stdin().lock())? } else { jwt };
    let report = inspect_token(ctx, &jwt).await?;
    if let (Some(header), Some(claims)) = (&report.header, &report.claims) {
        println!("header: {}", serde_json::to_string_pretty(header)?);
        println!("claims: {}", serde_json::to_string_pretty(claims)?);
    }
    for check in &report.checks {
        println!("{}  {:<10}  {}", if check.passed { "PASS" } else { "FAIL" }, check.name, check.detail);
    }
    let failed = report.checks.iter().filter(|c| !c.passed).count();
    anyhow::ensure!(failed == 0, "{failed} check(s) failed");
    Ok(())
}
