import GRDB

/// The one migrator. A migration never changes once shipped: add a new one instead.
enum Migrations {
    /// Every migration this build knows, in order.
    static let identifiers = ["v1", "v2-data-rate", "v3-image-metric-heartbeat", "v4-ar-probe"]
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE experiment (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL,
                    file TEXT NOT NULL,
                    file_sha256 TEXT NOT NULL,
                    created_at TEXT NOT NULL
                );
                CREATE TABLE run (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    experiment_id INTEGER NOT NULL REFERENCES experiment(id),
                    run_key TEXT NOT NULL,            -- stable identity within the experiment (for resume)
                    tokenizer TEXT NOT NULL,           -- registry kind
                    label TEXT NOT NULL,               -- kind(k=v, ...)
                    dataset TEXT NOT NULL,
                    config_json TEXT NOT NULL,         -- everything needed to rerun: dataset, training, tokenizer
                    seed INTEGER NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'interrupted')),
                    error TEXT,
                    started_at TEXT NOT NULL,
                    finished_at TEXT,
                    code_version TEXT NOT NULL,
                    host TEXT NOT NULL,
                    pid INTEGER NOT NULL
                );
                CREATE INDEX run_by_experiment ON run(experiment_id, run_key);
                CREATE TABLE param (
                    run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    key TEXT NOT NULL,
                    value TEXT NOT NULL,
                    PRIMARY KEY (run_id, key)
                );
                CREATE TABLE metric (
                    run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    step INTEGER NOT NULL,
                    key TEXT NOT NULL,
                    value REAL,
                    PRIMARY KEY (run_id, key, step)
                );
                CREATE TABLE result (
                    run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    key TEXT NOT NULL,
                    value REAL,
                    PRIMARY KEY (run_id, key)
                );
                CREATE TABLE artifact (
                    run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    path TEXT NOT NULL,
                    PRIMARY KEY (run_id, kind)
                );
                CREATE TABLE definition (
                    key TEXT PRIMARY KEY,
                    text TEXT NOT NULL
                );
                CREATE VIEW summary AS
                SELECT r.id AS run_id,
                       e.name AS experiment,
                       r.tokenizer,
                       r.label,
                       r.dataset,
                       r.status,
                       (SELECT value FROM result WHERE run_id = r.id AND key = 'tokens_per_image') AS L,
                       (SELECT value FROM result WHERE run_id = r.id AND key = 'log2_vocab') AS log2V,
                       (SELECT value FROM result WHERE run_id = r.id AND key = 'capacity_bpb') AS capacity_bpb,
                       (SELECT value FROM result WHERE run_id = r.id AND key = 'token_rate_bpb') AS token_rate_bpb,
                       (SELECT value FROM result WHERE run_id = r.id AND key = 'data_bpb') AS data_bpb,
                       (SELECT value FROM result WHERE run_id = r.id AND key = 'deficit_bpb') AS deficit_bpb,
                       (SELECT value FROM result WHERE run_id = r.id AND key = 'psnr') AS psnr,
                       (SELECT value FROM result WHERE run_id = r.id AND key = 'ssim') AS ssim,
                       (SELECT value FROM result WHERE run_id = r.id AND key = 'lossless') AS lossless,
                       (SELECT value FROM result WHERE run_id = r.id AND key = 'usage') AS usage,
                       (SELECT value FROM result WHERE run_id = r.id AND key = 'perplexity') AS perplexity,
                       (SELECT value FROM result WHERE run_id = r.id AND key = 'train_seconds') AS train_seconds,
                       r.seed,
                       r.code_version,
                       r.started_at,
                       r.finished_at
                FROM run r JOIN experiment e ON e.id = r.experiment_id;
                """)
        }
        m.registerMigration("v2-data-rate") { db in
            try db.execute(sql: """
                CREATE TABLE data_rate (
                    dataset_key TEXT NOT NULL,        -- the eval split: kind, path, size, seed, coder version
                    coder TEXT NOT NULL,
                    bits INTEGER NOT NULL,            -- total coded bits of the eval images
                    bytes INTEGER NOT NULL,           -- total raw bytes
                    images INTEGER NOT NULL,
                    seconds REAL NOT NULL,
                    code_version TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    PRIMARY KEY (dataset_key, coder)
                );
                """)
        }
        m.registerMigration("v3-image-metric-heartbeat") { db in
            try db.execute(sql: """
                CREATE TABLE image_metric (
                    run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    key TEXT NOT NULL,                -- a catalogue metric measured per image (psnr, ssim)
                    count INTEGER NOT NULL,           -- number of eval images
                    data BLOB NOT NULL,               -- count float64 values, little-endian, in eval order
                    PRIMARY KEY (run_id, key)
                );
                ALTER TABLE run ADD COLUMN heartbeat_at TEXT;   -- last sign of life of the process running it (ISO 8601)
                """)
        }
        m.registerMigration("v4-ar-probe") { db in
            try db.execute(sql: """
                CREATE TABLE probe (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,   -- the tokenizer run whose tokens were probed
                    seed INTEGER NOT NULL,             -- the prior's seed (initialisation, batches, samples)
                    config_json TEXT NOT NULL,         -- the [ar_probe] table as run (size, schedule, samples)
                    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
                    error TEXT,
                    started_at TEXT NOT NULL,
                    finished_at TEXT,
                    code_version TEXT NOT NULL,
                    samples_path TEXT                  -- a PNG grid of decoded samples, when drawn
                );
                CREATE INDEX probe_by_run ON probe(run_id, seed);
                CREATE TABLE probe_metric (
                    probe_id INTEGER NOT NULL REFERENCES probe(id) ON DELETE CASCADE,
                    step INTEGER NOT NULL,
                    key TEXT NOT NULL,
                    value REAL,
                    PRIMARY KEY (probe_id, key, step)
                );
                CREATE TABLE probe_result (
                    probe_id INTEGER NOT NULL REFERENCES probe(id) ON DELETE CASCADE,
                    key TEXT NOT NULL,
                    value REAL,
                    PRIMARY KEY (probe_id, key)
                );
                """)
        }
        return m
    }
}
