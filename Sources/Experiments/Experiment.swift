import Foundation
import Perceptual
import Datasets
import Tokenizers
import Training
import Settings
import Probing

/// A validated experiment file: the dataset, the training plan and every run it declares.
public struct Experiment: Sendable {
    public var name: String
    public var file: String
    public var fileSHA256: String
    public var description: String
    public var dataset: DatasetSpec
    public var training: TrainingPlan
    public var runs: [PlannedRun]
    /// Every run of the file, before any sharding (a run's plan index is its place here).
    public var fullPlan: [String] = []
    /// The perceptual metrics of the [evaluation] table (e.g. metrics = [rfid, kid, lpips-alex], quoted); PSNR, SSIM and
    /// the budget are always on.
    public var evaluation: [PerceptualMetric] = []
    /// The [ar_probe] table: after each learned tokenizer's run, a prior per seed on its tokens (nil: no probing).
    public var probe: ARProbeConfig?

    /// The run's place in the whole plan (recorded as param plan.index: merged shards keep plan order).
    public func planIndex(of run: PlannedRun) -> Int? { fullPlan.firstIndex(of: run.key) }
}

/// One run: one tokenizer configuration at one seed.
public struct PlannedRun: Sendable {
    public var tokenizer: TokenizerConfig
    public var seed: UInt64
    /// Stable identity within the experiment (used to skip finished runs on resume).
    public var key: String { "\(tokenizer.label) seed=\(seed)" }
}

/// An experiment-file error naming the file, the line and the key.
public struct ExperimentError: Error, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let key: String?
    public let message: String
    public var description: String {
        var s = file
        if let l = line { s += ":\(l)" }
        s += ": "
        if let k = key { s += "\(k): " }
        return s + message
    }
}

extension Experiment {
    /// The experiment file's other tables and their keys (`tokbench tokenizers` lists them after the tokenizers).
    public static var tableKeys: [(table: String, keys: [ConfigKey])] {
        [("[dataset]", ExperimentReader.DatasetTable.keys), ("[training]", TrainingPlan.keys), ("[evaluation]", ExperimentReader.evaluationKeys), ("[ar_probe]", ARProbeConfig.keys)]
    }

    /// Reads, applies `--set` overrides, and validates an experiment file. Every problem is
    /// found here, before any run starts.
    /// The runs this file declares, one per line (`tokbench run --dry-run`).
    /// Why an experiment name cannot be used, or nil: it names files (shard databases, artifact folders,
    /// the Slurm script, the report folder), so it must stay one plain path component.
    public static func badName(_ name: String) -> String? {
        let ok = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
        guard !name.isEmpty, name.utf8.count <= 100 else { return "must be 1 to 100 characters" }
        guard name.unicodeScalars.allSatisfy({ ok.contains($0) }), name.first != ".", name.first != "-" else {
            return "\(name.debugDescription) is not a plain file name: use letters, digits and . _ + - (not first: . or -), as it names files"
        }
        return nil
    }

    public var plan: String { "experiment \(name) (\(file)): \(runs.count) runs\n" + runs.map { "  " + $0.key }.joined(separator: "\n") }

    public static func load(path: String, overrides: [String] = []) throws -> Experiment {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ExperimentError(file: path, line: nil, key: nil, message: "cannot read experiment file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ExperimentError(file: path, line: nil, key: nil, message: "not UTF-8 text")
        }
        var doc: TOMLTable
        do { doc = try TOMLParser.parse(text) } catch let e as TOMLError {
            throw ExperimentError(file: path, line: e.line, key: nil, message: e.message)
        }
        for o in overrides { try applyOverride(o, to: &doc, file: path) }
        return try ExperimentReader(file: path, sha: sha256Hex([UInt8](data))).read(doc)
    }

    public static func parse(text: String, file: String = "<string>") throws -> Experiment {
        let doc: TOMLTable
        do { doc = try TOMLParser.parse(text) } catch let e as TOMLError {
            throw ExperimentError(file: file, line: e.line, key: nil, message: e.message)
        }
        return try ExperimentReader(file: file, sha: sha256Hex(Array(text.utf8))).read(doc)
    }

    /// `section.key=value` or `tokenizer.N.key=value` (N from 0), value in TOML syntax.
    static func applyOverride(_ o: String, to doc: inout TOMLTable, file: String) throws {
        let parts = o.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else {
            throw ExperimentError(file: file, line: nil, key: o, message: "--set expects KEY=VALUE, e.g. training.steps=200")
        }
        let path = parts[0].split(separator: ".").map(String.init)
        let value = TOMLNode(value: try TOMLParser.parseValue(parts[1]), line: 0)
        func set(_ t: inout TOMLTable, _ p: ArraySlice<String>) throws {
            let k = p.first!
            if p.count == 1 { t[k] = value; return }
            switch t[k]?.value {
            case .table(var sub)?:
                try set(&sub, p.dropFirst()); t[k] = TOMLNode(value: .table(sub), line: t[k]!.line)
            case .array(var arr)?:
                guard let i = Int(p.dropFirst().first ?? ""), arr.indices.contains(i), case .table(var sub) = arr[i].value, p.count > 2 else {
                    throw ExperimentError(file: file, line: nil, key: parts[0], message: "--set: \(k) is a list; name an element, e.g. \(k).0.KEY")
                }
                try set(&sub, p.dropFirst(2)); arr[i] = TOMLNode(value: .table(sub), line: arr[i].line)
                t[k] = TOMLNode(value: .array(arr), line: t[k]!.line)
            case nil:
                var sub = TOMLTable(line: 0)
                try set(&sub, p.dropFirst()); t[k] = TOMLNode(value: .table(sub), line: 0)
            default:
                throw ExperimentError(file: file, line: nil, key: parts[0], message: "--set: \(k) is not a table")
            }
        }
        try set(&doc, path[...])
    }
}

/// Walks the TOML document, checking every key against what is allowed.
struct ExperimentReader {
    let file: String
    let sha: String

    func err(_ node: TOMLNode?, _ key: String?, _ msg: String) -> ExperimentError {
        ExperimentError(file: file, line: node.flatMap { $0.line > 0 ? $0.line : nil }, key: key, message: msg)
    }

    func read(_ doc: TOMLTable) throws -> Experiment {
        try onlyKeys(doc, ["name", "description", "seed", "seeds", "dataset", "training", "evaluation", "ar_probe", "tokenizer"], prefix: "")
        guard let nameNode = doc["name"] else { throw err(nil, "name", "missing (every experiment has a name)") }
        let name = try string(nameNode, "name")
        if let why = Experiment.badName(name) { throw err(nameNode, "name", why) }
        let desc = try doc["description"].map { try string($0, "description") } ?? ""
        var seeds: [UInt64] = [0]
        if let s = doc["seed"] { seeds = [UInt64(try int(s, "seed", min: 0))] }
        if let s = doc["seeds"] {
            if doc["seed"] != nil { throw err(s, "seeds", "give either seed or seeds, not both") }
            guard case .array(let items) = s.value, !items.isEmpty else { throw err(s, "seeds", "must be a non-empty list of integers") }
            seeds = try items.map { UInt64(try int($0, "seeds", min: 0)) }
        }
        guard let dsNode = doc["dataset"], case .table(let ds) = dsNode.value else { throw err(doc["dataset"], "dataset", "missing [dataset] table") }
        let dataset = try readDataset(ds, seed: seeds[0])
        var plan = TrainingPlan()
        if let trNode = doc["training"] {
            guard case .table(let tr) = trNode.value else { throw err(trNode, "training", "must be a table") }
            plan = try readTraining(tr)
        }
        guard let tokNode = doc["tokenizer"], case .array(let toks) = tokNode.value, !toks.isEmpty else {
            throw err(doc["tokenizer"], "tokenizer", "declare at least one [[tokenizer]]")
        }
        let shape = ImageShape(channels: dataset.channels, height: dataset.resolution, width: dataset.resolution)
        var runs: [PlannedRun] = []
        for (i, t) in toks.enumerated() {
            guard case .table(let table) = t.value else { throw err(t, "tokenizer", "must be a table") }
            for config in try readTokenizer(table, index: i, shape: shape) {
                for s in seeds { runs.append(PlannedRun(tokenizer: config, seed: s)) }
            }
        }
        var seen = Set<String>()
        for r in runs where !seen.insert(r.key).inserted {
            throw err(nil, "tokenizer", "run \(r.key) is declared twice")
        }
        var e = Experiment(name: name, file: file, fileSHA256: sha, description: desc, dataset: dataset, training: plan, runs: runs, fullPlan: runs.map(\.key))
        if let ev = doc["evaluation"] { e.evaluation = try readEvaluation(ev) }
        if let pr = doc["ar_probe"] { e.probe = try readProbe(pr) }
        try checkTrainImages(e, ds)
        return e
    }

    /// An image folder whose eval split takes every file (ImageNet's 50,000 val images scored whole) has
    /// no train images: only tokenizers that do not train may run on it, and no AR probe.
    func checkTrainImages(_ e: Experiment, _ ds: TOMLTable) throws {
        guard e.dataset.kind == .imageFolder else { return }
        let n = try listImageFiles(e.dataset.path, extensions: pngAndJPEGExtensions).count
        guard n <= e.dataset.evalImages else { return }
        let why = "eval_images = \(e.dataset.evalImages) takes all \(n) files of \(e.dataset.path), leaving no train images"
        if let r = e.runs.first(where: { TokenizerRegistry.entry($0.tokenizer.kind)?.needsTrainImages($0.tokenizer) ?? true }) {
            throw err(ds["eval_images"], "dataset.eval_images", "\(why), and \(r.tokenizer.label) trains (lower eval_images, or run only tokenizers that do not train)")
        }
        if e.probe != nil { throw err(ds["eval_images"], "dataset.eval_images", "\(why), and [ar_probe] trains a prior on train images") }
    }

    static let evaluationKeys = [ConfigKey("metrics", .strings, default: nil,
        "perceptual metrics to compute beside PSNR, SSIM and the budget: a list of \(PerceptualMetric.allCases.map(\.rawValue).joined(separator: ", ")) (weights: tokbench weights)")]

    /// [evaluation] metrics = [...]: each a known perceptual metric (its weights are checked when the experiment runs).
    func readEvaluation(_ node: TOMLNode) throws -> [PerceptualMetric] {
        guard case .table(let t) = node.value else { throw err(node, "evaluation", "must be a table") }
        try onlyKeys(t, ["metrics"], prefix: "evaluation.")
        guard let m = t["metrics"] else { return [] }
        guard case .array(let items) = m.value else { throw err(m, "evaluation.metrics", "must be a list of strings, e.g. [\"rfid\", \"lpips-alex\"]") }
        let names = try items.map { try string($0, "evaluation.metrics") }
        do { return try PerceptualMetric.parse(names, field: "evaluation.metrics") } catch let e as WeightsError {
            throw err(m, nil, e.description)
        }
    }

    /// The [ar_probe] table, read through its declared options (ARProbeConfig).
    func readProbe(_ node: TOMLNode) throws -> ARProbeConfig {
        guard case .table(let t) = node.value else { throw err(node, "ar_probe", "must be a table") }
        let c = try readDeclared(t, ARProbeConfig.options, into: ARProbeConfig.unset, prefix: "ar_probe.")
        if let (key, message) = c.problem { throw err(t[key] ?? node, "ar_probe." + key, message) }
        return c
    }

    /// The [dataset] table's keys, each declared once (0 or "" for "the kind's own default").
    struct DatasetTable: DeclaredOptions {
        var kind = "", path = "", resolution = 0, channels = 0, evalImages = 0, trainImages = 0, evalPhotos = 0, seed = 0, preprocess = ""
        static let unset = DatasetTable()
        static var options: [Option<DatasetTable>] {
            let kinds = DatasetSpec.Kind.allCases.map(\.rawValue)
            return [
                .string("kind", \.kind, default: nil, "one of " + kinds.joined(separator: ", "),
                        check: { v in kinds.contains(v.stringValue ?? "") ? nil : "unknown dataset kind \"\(v)\" (known: \(kinds.joined(separator: ", ")))" }),
                .string("path", \.path, default: "", "the folder or file (\"$VAR\": from the environment; \"\": the kind's default)"),
                .int("resolution", \.resolution, default: 0, "image side (0: the kind's own; photos: 64 or 128)", check: ConfigKey.intIn(0...4096)),
                .int("channels", \.channels, default: 0, "1 (gray) or 3 (RGB) (0: the kind's own)",
                     check: { v in [0, 1, 3].contains(v.intValue ?? -1) ? nil : "must be 1 (gray) or 3 (RGB)" }),
                .int("eval_images", \.evalImages, default: DatasetSpec.defaultEvalImages, "size of the eval split (photos: a cap on eval tiles)", check: ConfigKey.intIn(1...100_000_000)),
                .int("train_images", \.trainImages, default: 0, "cap on the train split (0: all)", check: ConfigKey.intIn(0...100_000_000)),
                .int("eval_photos", \.evalPhotos, default: DatasetSpec.defaultEvalPhotos, "photos only: photos held out for eval", check: ConfigKey.intIn(1...10_000)),
                .string("preprocess", \.preprocess, default: "", "image-folder only: how a file becomes resolution × resolution: "
                        + Preprocess.allCases.map { "\"\($0.rawValue)\" (\($0.summary))" }.joined(separator: ", ") + " (\"\": area)",
                        check: { v in (v.stringValue.map { $0.isEmpty || Preprocess(rawValue: $0) != nil } ?? false) ? nil
                                   : "unknown preprocess \"\(v)\" (known: \(Preprocess.allCases.map(\.rawValue).joined(separator: ", ")))" }),
                .int("seed", \.seed, default: -1, "seed of the split (-1: the experiment's first seed, so every run is measured on the same eval images)",
                     check: ConfigKey.intIn(-1...Int.max)),
            ]
        }
    }

    func readDataset(_ t: TOMLTable, seed experimentSeed: UInt64) throws -> DatasetSpec {
        if t["kind"] == nil { throw err(nil, "dataset.kind", "missing (one of \(DatasetSpec.Kind.allCases.map(\.rawValue).joined(separator: ", ")))") }
        let d = try readDeclared(t, DatasetTable.options, into: DatasetTable.unset, prefix: "dataset.")
        let kind = DatasetSpec.Kind(rawValue: d.kind)!
        // The split's seed: fixed for the whole experiment (default: its first seed), so every seed and
        // every configuration is measured on the same eval images (paired comparisons need that).
        let seed = d.seed >= 0 ? UInt64(d.seed) : experimentSeed
        var path: String? = d.path.isEmpty ? nil : d.path
        if let p = path, p.hasPrefix("$") {   // "$VAR": read the folder from the environment
            let v = String(p.dropFirst())
            guard let value = ProcessInfo.processInfo.environment[v], !value.isEmpty else {
                throw err(t["path"], "dataset.path", "environment variable \(v) is not set")
            }
            path = value
        }
        if [.imageFolder, .cifar10, .imagenet64].contains(kind) && path == nil { throw err(kind == .imageFolder ? nil : t["kind"], "dataset.path", "a \(kind.rawValue) dataset needs a path") }
        if t["preprocess"] != nil && kind != .imageFolder { throw err(t["preprocess"], "dataset.preprocess", "only for kind = \"image-folder\"") }
        if t["eval_photos"] != nil && kind != .photos { throw err(t["eval_photos"], "dataset.eval_photos", "only for kind = \"photos\"") }
        if kind == .photos, d.resolution != 0, ![64, 128].contains(d.resolution) { throw err(t["resolution"], "dataset.resolution", "photos come as 64 or 128 pixel tiles, got \(d.resolution)") }
        let spec = DatasetSpec(kind: kind, path: path, resolution: d.resolution == 0 ? nil : d.resolution, channels: d.channels == 0 ? nil : d.channels,
                               evalImages: d.evalImages, trainImages: d.trainImages == 0 ? nil : d.trainImages, evalPhotos: d.evalPhotos, seed: seed,
                               preprocess: d.preprocess.isEmpty ? nil : Preprocess(rawValue: d.preprocess))
        do { try spec.checkAvailable() } catch let e as DatasetError {
            throw err(t["path"] ?? t["kind"], "dataset.path", e.description)
        }
        return spec
    }

    /// The [training] table, read through the plan's declared options (types, ranges, defaults).
    func readTraining(_ t: TOMLTable) throws -> TrainingPlan {
        let p = try readDeclared(t, TrainingPlan.options, into: TrainingPlan.unset, prefix: "training.")
        if p.evalEvery % p.logEvery != 0 {
            throw err(t["eval_every"] ?? t["log_every"], "training.eval_every", "must be a multiple of log_every (\(p.logEvery)), got \(p.evalEvery)")
        }
        return p
    }

    /// A table of declared options: unknown keys are errors with "did you mean", each value is converted
    /// to its declared type and checked, absent keys take their defaults; every error names file, line and key.
    func readDeclared<Root>(_ t: TOMLTable, _ options: [Option<Root>], into value: Root, prefix: String) throws -> Root {
        try onlyKeys(t, options.map(\.key.name), prefix: prefix)
        var values: [String: ConfigValue] = [:]
        for o in options {
            guard let node = t[o.key.name] else { continue }
            let v = try convert(node, to: o.key.type, prefix + o.key.name)
            if let m = o.key.check(v) { throw err(node, prefix + o.key.name, m) }
            values[o.key.name] = v
        }
        do { return try decodeDeclared(options, into: value, from: values) } catch let e as ConfigError {
            throw err(t[e.key], prefix + e.key, e.message)
        }
    }

    /// One [[tokenizer]] table → its runs: a list value sweeps, one run per value (the
    /// cartesian product when several keys are lists).
    func readTokenizer(_ t: TOMLTable, index: Int, shape: ImageShape) throws -> [TokenizerConfig] {
        let prefix = "tokenizer[\(index)]."
        guard let kn = t["kind"] else { throw err(nil, prefix + "kind", "missing (one of \(TokenizerRegistry.kinds.joined(separator: ", ")))") }
        let kind = try string(kn, prefix + "kind")
        guard let entry = TokenizerRegistry.entry(kind) else {
            throw err(kn, prefix + "kind", "unknown tokenizer \"\(kind)\" (known: \(TokenizerRegistry.kinds.joined(separator: ", ")))")
        }
        try onlyKeys(t, ["kind"] + entry.keys.map(\.name) + (entry.openPrefix != nil ? ["args"] : []), prefix: prefix)
        var axes: [(name: String, values: [ConfigValue])] = []
        for key in entry.keys {
            let full = prefix + key.name
            guard let node = t[key.name] else {
                guard let d = key.defaultValue else { throw err(nil, full, "missing (required for \(kind))") }
                axes.append((key.name, [d])); continue
            }
            // A list sweeps. For a list-valued key (FSQ levels), a list of integers is one value and a
            // list of lists sweeps.
            var items: [TOMLNode] = [node]
            if case .array(let arr) = node.value {
                let isList = { (n: TOMLNode) -> Bool in if case .array = n.value { return true }; return false }
                if !key.type.isList || (!arr.isEmpty && arr.allSatisfy(isList)) {
                    guard !arr.isEmpty else { throw err(node, full, "an empty list sweeps nothing") }
                    items = arr
                }
            }
            let values = try items.map { item -> ConfigValue in
                let v = try convert(item, to: key.type, full)
                if let m = key.check(v) { throw err(item, full, m) }
                return v
            }
            axes.append((key.name, values))
        }
        // An external program's `args` table: every key passes to the program as --key=value; a list sweeps.
        if let prefix2 = entry.openPrefix, let a = t["args"] {
            guard case .table(let table) = a.value else { throw err(a, prefix + "args", "must be a table, got \(a.value.typeName)") }
            for (k, node) in table.entries {
                var items = [node]
                if case .array(let arr) = node.value {
                    guard !arr.isEmpty else { throw err(node, prefix + "args." + k, "an empty list sweeps nothing") }
                    items = arr
                }
                axes.append((prefix2 + k, try items.map { item -> ConfigValue in
                    switch item.value {
                    case .integer(let v): return .int(v)
                    case .float(let v): return .double(v)
                    case .boolean(let v): return .bool(v)
                    case .string(let v): return .string(v)
                    default: throw err(item, prefix + "args." + k, "must be a string, number or boolean (or a list of them), got \(item.value.typeName)")
                    }
                }))
            }
        }
        var configs: [[String: ConfigValue]] = [[:]]
        for axis in axes {
            configs = configs.flatMap { c in axis.values.map { v in var c2 = c; c2[axis.name] = v; return c2 } }
        }
        return try configs.map { values in
            let config = TokenizerConfig(kind: kind, values: values)
            do { try entry.validate(config, shape) } catch let e as ConfigError {
                throw err(t[e.key] ?? kn, prefix + e.key, e.message)
            }
            return config
        }
    }

    // MARK: typed access

    func onlyKeys(_ t: TOMLTable, _ allowed: [String], prefix: String) throws {
        for (k, node) in t.entries where !allowed.contains(k) {
            let close = allowed.filter { editDistance($0, k) <= 2 }
            throw err(node, prefix + k, "unknown key" + (close.isEmpty ? " (allowed: \(allowed.joined(separator: ", ")))" : " (did you mean \(close[0])?)"))
        }
    }

    func string(_ n: TOMLNode, _ key: String) throws -> String {
        guard case .string(let s) = n.value else { throw err(n, key, "must be a string, got \(n.value.typeName)") }
        return s
    }

    func int(_ n: TOMLNode, _ key: String, min lo: Int = .min, max hi: Int = .max) throws -> Int {
        guard case .integer(let v) = n.value else { throw err(n, key, "must be an integer, got \(n.value.typeName)") }
        guard v >= lo && v <= hi else {
            throw err(n, key, hi == .max ? "must be ≥ \(lo), got \(v)" : "must be in \(lo)…\(hi), got \(v)")
        }
        return v
    }

    func convert(_ n: TOMLNode, to type: ConfigType, _ key: String) throws -> ConfigValue {
        switch (type, n.value) {
        case (.int, .integer(let v)): return .int(v)
        case (.double, .float(let v)): return .double(v)
        case (.double, .integer(let v)): return .double(Double(v))
        case (.bool, .boolean(let v)): return .bool(v)
        case (.string, .string(let v)): return .string(v)
        case (.ints, .array(let items)):
            return .ints(try items.map { item in
                guard case .integer(let v) = item.value else { throw err(item, key, "must be a list of integers, got a \(item.value.typeName) in it") }
                return v
            })
        case (.strings, .array(let items)):
            return .strings(try items.map { item in
                guard case .string(let v) = item.value else { throw err(item, key, "must be a list of strings, got a \(item.value.typeName) in it") }
                return v
            })
        default: throw err(n, key, "must be \(type == .int ? "an" : "a") \(type.rawValue) (or a list of them), got \(n.value.typeName)")
        }
    }
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var row = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var prev = row[0]; row[0] = i
        for j in 1...max(b.count, 1) where !b.isEmpty {
            let cur = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
            prev = cur
        }
    }
    return a.isEmpty ? b.count : row[b.count]
}
