//! The process's file-descriptor budget: every HTTP connection holds one, so the connection
//! limit has to fit under the open-file limit, with room left for the database pool, the
//! upstream and notification clients, the bus and the log.
//!
//! At start the soft limit is raised to the hard one (many systems start processes at a soft
//! 1024 while allowing far more), then `http_max_connections` is lowered, with a warning, if it
//! does not fit under what was granted minus [`RESERVED`].

/// Descriptors kept for everything but inbound connections.
pub const RESERVED: u64 = 256;

/// Raises the soft open-file limit as far as allowed and returns how many connections fit
/// under it: `configured`, or less when the limit is lower.
pub fn connection_budget(configured: usize) -> usize {
    let Some(limit) = raise_open_file_limit() else {
        return configured;
    };
    let fits = usize::try_from(limit.saturating_sub(RESERVED).max(1)).unwrap_or(usize::MAX);
    if configured > fits {
        tracing::warn!(
            http_max_connections = configured,
            open_file_limit = limit,
            using = fits,
            "http_max_connections does not fit under the open-file limit (minus {RESERVED} for \
             everything else); serving at most {fits} connections: raise the limit (ulimit -n, \
             LimitNOFILE=) or lower http_max_connections"
        );
        return fits;
    }
    configured
}

/// The soft open-file limit after raising it to the hard one; `None` where there is none to
/// read.
#[cfg(unix)]
fn raise_open_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(err) => {
            tracing::warn!(error = %err, "could not read or raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft)
        }
    }
}

#[cfg(not(unix))]
fn raise_open_file_limit() -> Option<u64> {
    None
}
