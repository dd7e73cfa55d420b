//! Crash consistency on the in-memory storage: random sequences of appends, commits, syncs,
//! injected sync failures, segment cuts, truncations, crashes (clean or torn) and reopens.
//! After every crash the log must hold every durable record, in order, and be a prefix of
//! what was appended: nothing reordered, duplicated or invented. Set `WAL_TRACE=1` to print
//! each step of a failing seed.

use std::time::Duration;

use cairn_wal::{Error, MemStorage, Options, RecordPos, SyncPolicy, Wal};

use crate::common::{Rng, open, read_all, record};

struct Run {
    rng: Rng,
    mem: MemStorage,
    options: Options,
    wal: Option<Wal>,
    /// What the writer appended and has not lost to a reopen, in order.
    log: Vec<(RecordPos, Vec<u8>)>,
    /// `log[..durable]` must survive any crash.
    durable: usize,
    poisoned: bool,
    /// A sync failure was asked for and may not have happened yet.
    armed: bool,
    next_id: u64,
    crashes: usize,
    failures: usize,
}

impl Run {
    fn wal(&mut self) -> &mut Wal {
        self.wal.as_mut().unwrap()
    }

    /// Checks the outcome of an operation that may fail only because of an injected sync
    /// failure (or because an earlier one poisoned the log).
    fn outcome<T>(&mut self, r: Result<T, Error>, what: &str) -> Option<T> {
        match r {
            Ok(x) => {
                assert!(!self.poisoned, "{what} succeeded on a poisoned log");
                Some(x)
            }
            Err(Error::Poisoned { .. }) => {
                assert!(self.poisoned, "{what}: poisoned without a failure");
                None
            }
            Err(e @ Error::Io { .. }) => {
                assert!(self.armed, "{what}: unexpected I/O error {e}");
                assert!(e.to_string().contains("sync"), "{e}");
                self.poisoned = true;
                self.failures += 1;
                None
            }
            Err(e) => panic!("{what}: {e}"),
        }
    }

    fn commit_is_durable(&self) -> bool {
        matches!(
            self.options.sync_policy(),
            SyncPolicy::EveryCommit | SyncPolicy::Interval(Duration::ZERO)
        )
    }

    fn reopen(&mut self) {
        self.mem.clear_sync_failure();
        self.armed = false;
        let (wal, recovery) = open(&self.mem, self.options.clone());
        let got = read_all(&self.mem);
        assert!(
            got.len() >= self.durable,
            "lost durable records: {} of {} survive ({recovery})",
            got.len(),
            self.durable
        );
        assert!(
            got.len() <= self.log.len(),
            "records never appended: {recovery}"
        );
        assert!(
            got[..] == self.log[..got.len()],
            "not a prefix of what was appended ({recovery})"
        );
        assert_eq!(recovery.records, got.len() as u64);
        self.log.truncate(got.len());
        // Open syncs what it found: all of it is durable now.
        self.durable = got.len();
        self.poisoned = false;
        self.wal = Some(wal);
    }

    fn step(&mut self) {
        let max = self.options.max_record_len() as u64;
        let op = self.rng.below(100);
        if std::env::var_os("WAL_TRACE").is_some() {
            eprintln!(
                "op {op} log {} durable {} poisoned {} armed {}",
                self.log.len(),
                self.durable,
                self.poisoned,
                self.armed
            );
        }
        match op {
            0..=39 => {
                for _ in 0..=self.rng.below(3) {
                    let len = if self.rng.chance(3) {
                        self.rng.below(max + 1)
                    } else {
                        self.rng.below(max.min(200) + 1)
                    };
                    let data = record(self.next_id, len as usize);
                    self.next_id += 1;
                    let r = self.wal().append(&data);
                    if let Some(pos) = self.outcome(r, "append") {
                        self.log.push((pos, data));
                    }
                }
            }
            40..=64 => {
                let r = self.wal().commit();
                if self.outcome(r, "commit").is_some() && self.commit_is_durable() {
                    self.durable = self.log.len();
                }
            }
            65..=69 => {
                let r = self.wal().sync();
                if self.outcome(r, "sync").is_some() {
                    self.durable = self.log.len();
                }
            }
            70..=74 => {
                let n = 1 + self.rng.below(3);
                self.mem.fail_sync(n);
                self.armed = true;
            }
            75..=79 => {
                let r = self.wal().cut_segment();
                self.outcome(r, "cut_segment");
            }
            80..=81 if !self.poisoned && !self.armed => {
                let wal = self.wal();
                let (first, current) = (wal.first_segment(), wal.current_segment());
                let s = first + self.rng.below(u64::from(current - first) + 1) as u32;
                self.wal().truncate_before(s).unwrap();
                let dropped = self.log.iter().take_while(|r| r.0.segment < s).count();
                self.log.drain(..dropped);
                self.durable = self.durable.saturating_sub(dropped);
            }
            82..=89 => {
                drop(self.wal.take());
                if self.rng.chance(50) {
                    let seed = self.rng.below(u64::MAX);
                    self.mem.crash_torn(seed);
                } else {
                    self.mem.crash();
                }
                self.crashes += 1;
                self.reopen();
            }
            90..=94 => {
                drop(self.wal.take());
                self.reopen();
            }
            95..=99 => {
                let wal = self.wal.take().unwrap();
                let r = wal.close();
                if self.outcome(r, "close").is_some() {
                    self.durable = self.log.len();
                }
                self.reopen();
            }
            _ => {}
        }
    }
}

fn run(seed: u64, steps: usize) -> (usize, usize) {
    let mut rng = Rng(seed);
    let segment_size = 64 + rng.below(2_000);
    let policy = match seed % 3 {
        0 => SyncPolicy::EveryCommit,
        1 => SyncPolicy::Interval(Duration::ZERO),
        _ => SyncPolicy::Interval(Duration::from_secs(3_600)),
    };
    let options = Options::default().segment_size(segment_size).sync(policy);
    let mem = MemStorage::new();
    let (wal, _) = open(&mem, options.clone());
    let mut run = Run {
        rng,
        mem,
        options,
        wal: Some(wal),
        log: Vec::new(),
        durable: 0,
        poisoned: false,
        armed: false,
        next_id: 0,
        crashes: 0,
        failures: 0,
    };
    for _ in 0..steps {
        run.step();
    }
    drop(run.wal.take());
    run.mem.crash_torn(seed);
    run.reopen();
    (run.crashes, run.failures)
}

#[test]
fn random_operations_with_crashes() {
    let (mut crashes, mut failures) = (0, 0);
    for seed in 0..30 {
        if std::env::var_os("WAL_TRACE").is_some() {
            eprintln!("seed {seed}");
        }
        let (c, f) = run(seed, 200);
        crashes += c;
        failures += f;
    }
    // The loop exercises what it claims to.
    assert!(crashes > 300, "{crashes} crashes");
    assert!(failures > 50, "{failures} injected sync failures hit");
}
