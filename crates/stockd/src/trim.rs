//! Keeping the process's resident memory to what it uses: the allocator's settings, and giving
//! back, once start-up is over, what only start-up used.
//!
//! Start-up runs a lot of code exactly once (configuration, migrations, the router, TLS
//! set-up), and each page fault on the binary maps its whole neighbourhood (64 KiB of pages
//! already in the page cache): a fresh process has ~15 MiB of its code resident, where an
//! idle server's loops and the cached read path come back to ~8–13 MiB (bench/memory.sh).
//! The kernel would drop the rest under memory pressure; until then it counts in the
//! process's RSS and in its container's memory, which is what a Kubernetes memory request
//! pays for. [`release_start_up_memory`] asks for that now: `madvise(MADV_PAGEOUT)` over the
//! binary's read-only mappings (pages used later fault back in from the page cache or the
//! file, once), and a forced collection of the allocator's freed pages.
//!
//! While requests come, memory freed in whole pages is kept a little for reuse
//! ([`tune_allocator`]: mimalloc's purge delay at [`PURGE_DELAY_MS`]); when the last connection
//! closes, the HTTP server calls [`return_freed_memory`], which gives all of it back. Returning
//! each page at once (a delay of 0) cost a page fault every 7 to 25 cached requests, each page
//! faulting back in as the next requests reused it (bench/BENCHMARKS.md, fifth session).
//!
//! This is the one module of the workspace allowed `unsafe` (`.ci/run` checks that no other
//! `allow(unsafe_code)` appears): no crate wraps `madvise` on memory it did not map itself, and
//! mimalloc's options and collection are C calls. All are memory-safe whatever their
//! arguments: `MADV_PAGEOUT` only reclaims pages (their contents read back the same; dirty
//! private pages are left alone without swap), an address range that is no longer mapped is
//! an `ENOMEM` error, and mimalloc's calls only change when it returns free memory.

#![allow(unsafe_code)]

use std::path::Path;

/// What [`release_start_up_memory`] did, for the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Released {
    /// Resident set before, in KiB (0 where `/proc` cannot be read).
    pub rss_before_kib: u64,
    /// Resident set after, in KiB.
    pub rss_after_kib: u64,
    /// How many of the binary's mappings the kernel accepted the advice for.
    pub mappings_paged_out: usize,
}

/// How long mimalloc keeps a freed page before returning it to the system, unless
/// `MIMALLOC_PURGE_DELAY` says otherwise (mimalloc's own default is a second, and is only acted
/// on when mimalloc next runs on some thread: an idle server would keep it).
pub const PURGE_DELAY_MS: std::os::raw::c_long = 10;

/// Sets mimalloc's purge delay to [`PURGE_DELAY_MS`] unless `MIMALLOC_PURGE_DELAY` is set. Call
/// it first thing in `main`.
pub fn tune_allocator() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: setting an option has no preconditions; mimalloc reads this one each time
        // it schedules a purge.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
}

/// Returns to the system every page the allocator holds free: the freed pages of the calling
/// thread, and every purge scheduled process-wide. The HTTP server calls it when its last
/// connection closes (`web::ServerConfig::when_idle`); it takes a fraction of a millisecond,
/// mostly the system calls that return the pages (one `madvise` per 64 KiB page; ~40 after a
/// 64-connection load).
pub fn return_freed_memory() {
    // SAFETY: `mi_collect` has no preconditions and only frees memory mimalloc holds unused.
    unsafe { libmimalloc_sys::mi_collect(true) };
}

/// `mi_option_purge_delay` in the bundled mimalloc 3's `mimalloc.h` (the Rust bindings'
/// option constants predate version 3 and stop short of it); a test checks that it names
/// the option whose default is the purge delay's 1,000 ms.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Pages out the binary's code and read-only data and returns the allocator's free pages to
/// the system (see the module documentation). Call it once start-up is complete; it takes a
/// few milliseconds and never fails (a kernel without `MADV_PAGEOUT`, before Linux 5.4,
/// refuses the advice and nothing changes).
pub fn release_start_up_memory() -> Released {
    let rss_before_kib = resident_kib();
    let mappings_paged_out = page_out_binary();
    return_freed_memory();
    Released {
        rss_before_kib,
        rss_after_kib: resident_kib(),
        mappings_paged_out,
    }
}

/// `madvise(MADV_PAGEOUT)` over every read-only mapping of the running executable; returns
/// how many the kernel accepted.
#[cfg(target_os = "linux")]
fn page_out_binary() -> usize {
    let (Ok(exe), Ok(maps)) = (
        std::fs::read_link("/proc/self/exe"),
        std::fs::read_to_string("/proc/self/maps"),
    ) else {
        return 0;
    };
    read_only_mappings_of(&maps, &exe)
        .filter(|&(start, end)| {
            // SAFETY: the range was a mapping of this process a moment ago; `MADV_PAGEOUT`
            // never changes what the memory reads as (see the module documentation), and a
            // range unmapped since is an error return, not undefined behaviour.
            let outcome = unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_PAGEOUT)
            };
            outcome == 0
        })
        .count()
}

#[cfg(not(target_os = "linux"))]
fn page_out_binary() -> usize {
    0
}

/// The `start..end` address ranges of the read-only (not writable) mappings of `binary` in a
/// `/proc/PID/maps` text.
fn read_only_mappings_of<'a>(
    maps: &'a str,
    binary: &'a Path,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    maps.lines().filter_map(move |line| {
        // "start-end perms offset dev inode path", the path last and possibly with spaces.
        let mut fields = line.splitn(6, ' ');
        let range = fields.next()?;
        let perms = fields.next()?;
        let path = fields.nth(3)?.trim_start();
        if perms.as_bytes().get(1) != Some(&b'-') || Path::new(path) != binary {
            return None;
        }
        let (start, end) = range.split_once('-')?;
        let start = usize::from_str_radix(start, 16).ok()?;
        let end = usize::from_str_radix(end, 16).ok()?;
        (end > start).then_some((start, end))
    })
}

/// The process's resident set in KiB, from `/proc/self/statm` (0 where it cannot be read).
fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const MAPS: &str = "\
55d0c0a00000-55d0c1000000 r--p 00000000 fd:01 1234                       /usr/bin/stockd
55d0c1000000-55d0c2000000 r-xp 00600000 fd:01 1234 /usr/bin/stockd
55d0c2000000-55d0c2100000 r--p 01600000 fd:01 1234 /usr/bin/stockd
55d0c2100000-55d0c2200000 rw-p 01700000 fd:01 1234 /usr/bin/stockd
55d0c2200000-55d0c2300000 rw-p 00000000 00:00 0 [heap]
7f0000000000-7f0000100000 r-xp 00000000 fd:01 99 /usr/lib/x86_64-linux-gnu/libc.so.6
7f0000200000-7f0000300000 r--p 00000000 fd:01 77 /opt/my tools/stockd
";

    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        let purge_delay = || {
            // SAFETY: reading an option has no preconditions.
            unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) }
        };
        assert_eq!(
            purge_delay(),
            1_000,
            "mimalloc's purge delay defaults to 1,000 ms"
        );
        tune_allocator();
        assert_eq!(purge_delay(), PURGE_DELAY_MS);
    }

    #[test]
    fn only_the_binarys_read_only_mappings_are_picked() {
        let picked: Vec<_> = read_only_mappings_of(MAPS, Path::new("/usr/bin/stockd")).collect();
        assert_eq!(
            picked,
            vec![
                (0x55d0c0a00000, 0x55d0c1000000),
                (0x55d0c1000000, 0x55d0c2000000),
                (0x55d0c2000000, 0x55d0c2100000),
            ]
        );
    }

    #[test]
    fn a_path_with_spaces_is_matched_whole() {
        let picked: Vec<_> =
            read_only_mappings_of(MAPS, Path::new("/opt/my tools/stockd")).collect();
        assert_eq!(picked, vec![(0x7f0000200000, 0x7f0000300000)]);
        assert_eq!(read_only_mappings_of(MAPS, Path::new("/opt/my")).count(), 0);
    }

    #[test]
    fn the_running_binarys_own_mappings_are_found_and_released() {
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let found = read_only_mappings_of(&maps, &exe).count();
        assert!(found >= 2, "code and read-only data of {exe:?} in:\n{maps}");
        // Memory mimalloc holds freed but not yet returned (its purge delay is not 0): 32 MiB
        // of blocks, written, then freed.
        // SAFETY: reading an option has no preconditions.
        let delayed = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) } > 0;
        let freed_kib = delayed.then(|| {
            const BLOCK: usize = 8 * 1024;
            let blocks: Vec<*mut u8> = (0..4096)
                .map(|_| {
                    // SAFETY: a fresh block of BLOCK bytes, written within its bounds.
                    unsafe {
                        let block = libmimalloc_sys::mi_malloc(BLOCK).cast::<u8>();
                        assert!(!block.is_null());
                        block.write_bytes(1, BLOCK);
                        block
                    }
                })
                .collect();
            for block in blocks {
                // SAFETY: each block came from `mi_malloc` and is freed once.
                unsafe { libmimalloc_sys::mi_free(block.cast()) };
            }
            anonymous_kib()
        });
        // The advice is taken (Linux 5.4 and later) for each of them, and the process goes on
        // running code that may just have been paged out: this assertion is some of it.
        let released = release_start_up_memory();
        assert_eq!(released.mappings_paged_out, found);
        assert!(released.rss_before_kib > 0 && released.rss_after_kib > 0);
        // And the allocator's freed pages went back.
        if let Some(before) = freed_kib {
            let after = anonymous_kib();
            assert!(
                after + 16 * 1024 <= before,
                "anonymous memory {before} KiB before, {after} KiB after"
            );
        }
    }

    /// The process's anonymous resident memory (`RssAnon`), in KiB.
    fn anonymous_kib() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .unwrap()
            .lines()
            .find_map(|line| line.strip_prefix("RssAnon:"))
            .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}
