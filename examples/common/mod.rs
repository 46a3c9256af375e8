//! The set-up every figure example shares: a throwaway PostgreSQL, migrated,
//! with the bundled programs registered and the user `bench`.

use pg_shell::pgcluster::Cluster;
use tokio_postgres::Client;

pub struct Bench {
    /// Stops and removes the server when dropped.
    pub cluster: Cluster,
    pub conninfo: String,
    /// A superuser connection.
    pub admin: Client,
}

/// `fsync`: on to measure as a real deployment runs. `password`: the user
/// `bench`'s, for figures that log in over HTTP.
pub async fn bench_database(fsync: bool, password: Option<&str>) -> anyhow::Result<Bench> {
    let cluster = tokio::task::spawn_blocking(move || pg_shell::pgcluster::throwaway_with_fsync(fsync)).await??;
    let conninfo = cluster.connection_string("postgres");
    let mut admin = pg_shell::db::connect_plain(&conninfo).await?;
    pg_shell::db::migrate(&mut admin).await?;
    pg_shell::db::register_bundled(&mut admin, false).await?;
    pg_shell::db::upsert_user(&admin, "bench", "user", password).await?;
    Ok(Bench { cluster, conninfo, admin })
}
