//! `select` over one million node_exporter-like series: 1000 instances of 1000 series each
//! (cpu × mode, disks, network devices, filesystems, memory gauges, systemd units), with
//! matchers whose results range from 1 to 128k series.
//!
//! Groups: `MemIndex::select` (the head) and `IndexReader::select` (the same series as a
//! block, read from its bytes). Each benchmark id names the query and its result size.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a bench binary: a broken setup should stop it loudly"
)]

use cairn_index::{IndexReader, IndexWriter, LabelIndex, MemIndex};
use cairn_model::{Labels, Matcher};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

const INSTANCES: usize = 1000;

fn instance(i: usize) -> String {
    format!("host-{i:04}:9100")
}

/// The 1000 series of one instance.
fn node_series(i: usize, out: &mut Vec<Labels>) {
    let base = |name: &str| {
        Labels::from_pairs([
            ("__name__", name.to_owned()),
            ("job", "node".to_owned()),
            ("instance", instance(i)),
        ])
    };
    let modes = [
        "idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user",
    ];
    for cpu in 0..16 {
        for mode in modes {
            let mut l = base("node_cpu_seconds_total");
            l.set("cpu", cpu.to_string());
            l.set("mode", mode);
            out.push(l);
        }
        for mode in ["nice", "user"] {
            let mut l = base("node_cpu_guest_seconds_total");
            l.set("cpu", cpu.to_string());
            l.set("mode", mode);
            out.push(l);
        }
    }
    for metric in 0..12 {
        for disk in 0..10u8 {
            let mut l = base(&format!("node_disk_metric{metric}_total"));
            l.set("device", format!("sd{}", char::from(b'a' + disk)));
            out.push(l);
        }
    }
    for metric in 0..20 {
        for dev in 0..8 {
            let mut l = base(&format!("node_network_metric{metric}_total"));
            l.set("device", format!("eth{dev}"));
            out.push(l);
        }
    }
    for metric in 0..8 {
        for fs in 0..10 {
            let mut l = base(&format!("node_filesystem_metric{metric}_bytes"));
            l.set("device", format!("/dev/nvme0n1p{fs}"));
            l.set("mountpoint", format!("/mnt/data{fs}"));
            l.set("fstype", if fs % 2 == 0 { "ext4" } else { "xfs" });
            out.push(l);
        }
    }
    for metric in 0..100 {
        out.push(base(&format!("node_memory_M{metric}_bytes")));
    }
    for unit in 0..76 {
        for state in ["activating", "active", "deactivating", "failed", "inactive"] {
            let mut l = base("node_systemd_unit_state");
            l.set("name", format!("unit-{unit}.service"));
            l.set("state", state);
            out.push(l);
        }
    }
}

fn queries() -> Vec<(&'static str, Vec<Matcher>, u64)> {
    let eq = Matcher::equal;
    let re = |n: &str, v: &str| Matcher::regex(n, v).unwrap();
    let ten_instances = (1..=10).map(instance).collect::<Vec<_>>().join("|");
    vec![
        (
            "equality",
            vec![
                eq("__name__", "node_memory_M7_bytes"),
                eq("instance", &instance(42)),
            ],
            1,
        ),
        (
            "equality",
            vec![eq("__name__", "node_memory_M7_bytes")],
            1000,
        ),
        (
            "equality",
            vec![
                eq("job", "node"),
                eq("__name__", "node_cpu_seconds_total"),
                eq("mode", "user"),
            ],
            16_000,
        ),
        (
            "equality",
            vec![eq("__name__", "node_cpu_seconds_total")],
            128_000,
        ),
        (
            "regex_alternation",
            vec![
                eq("__name__", "node_cpu_seconds_total"),
                re("instance", &ten_instances),
            ],
            1280,
        ),
        (
            "regex_alternation",
            vec![re("instance", &ten_instances)],
            10_000,
        ),
        (
            "regex_prefix",
            vec![
                re("__name__", "node_disk_.*"),
                eq("instance", &instance(42)),
            ],
            120,
        ),
        (
            "regex_prefix",
            vec![re("__name__", "node_memory_.*")],
            100_000,
        ),
        (
            "regex_scan",
            vec![
                eq("__name__", "node_memory_M7_bytes"),
                re("instance", ".*7:9100"),
            ],
            100,
        ),
        (
            "negative",
            vec![
                eq("instance", &instance(42)),
                Matcher::not_regex("__name__", "node_(cpu|memory).*").unwrap(),
            ],
            740,
        ),
        (
            "negative",
            vec![
                eq("__name__", "node_cpu_seconds_total"),
                Matcher::not_equal("mode", "idle"),
            ],
            112_000,
        ),
        (
            "has_label",
            vec![eq("instance", &instance(42)), re("device", ".+")],
            360,
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let mut series = Vec::with_capacity(INSTANCES * 1000);
    for i in 0..INSTANCES {
        node_series(i, &mut series);
    }
    let mut head = MemIndex::new();
    for (id, labels) in (0u32..).zip(&series) {
        head.add(id, labels);
    }
    series.sort();
    let mut writer = IndexWriter::new();
    for labels in &series {
        writer.add(labels).unwrap();
    }
    drop(series);
    let bytes = writer.finish().unwrap();
    let block = IndexReader::from_bytes(bytes.as_slice()).unwrap();
    let queries = queries();
    for (name, matchers, want) in &queries {
        assert_eq!(head.select(matchers).len(), *want, "{name}");
        assert_eq!(block.select(matchers).len(), *want, "{name}");
    }

    let mut group = c.benchmark_group("MemIndex::select");
    for (name, matchers, want) in &queries {
        group.bench_with_input(BenchmarkId::new(*name, want), matchers, |b, m| {
            b.iter(|| head.select(m));
        });
    }
    group.finish();

    let mut group = c.benchmark_group("IndexReader::select");
    for (name, matchers, want) in &queries {
        group.bench_with_input(BenchmarkId::new(*name, want), matchers, |b, m| {
            b.iter(|| block.select(m));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
