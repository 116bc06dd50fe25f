import Foundation
import Tokenizers
import Store

/// A finished run read back for a new use (`tokbench eval --run`, `tokbench probe --run`): its record and the
/// config that rebuilds its tokenizer and dataset; `restore` puts the trained weights back from its checkpoint.
struct FinishedRun {
    let stored: StoredRun
    let config: RunConfig
    var id: Int64 { stored.run.id! }

    init(_ id: Int64, in store: ResultStore) throws {
        guard let s = try store.runs([id]).first else { throw StoreError("\(store.path): no run \(id)") }
        guard try s.run.checkedStatus() == .finished else { throw StoreError("\(store.path): run \(id) is \(s.run.status), not finished") }
        do { config = try JSONDecoder().decode(RunConfig.self, from: Data(s.run.configJSON.utf8)) } catch {
            throw StoreError("\(store.path): run \(id): its config_json is not a tokbench run config (\(error))")
        }
        stored = s
    }

    /// A learned tokenizer's trained weights, from the run's checkpoint artifact (a tokenizer that does not learn needs none).
    func restore(_ tokenizer: Tokenizer, say: (String) -> Void) throws {
        guard let learned = tokenizer as? TrainableTokenizer else { return }
        guard let ckpt = stored.artifacts["checkpoint"], FileManager.default.fileExists(atPath: ckpt) else {
            throw StoreError("run \(id): no checkpoint artifact on disk (\(stored.artifacts["checkpoint"] ?? "none recorded")); the trained tokenizer is needed")
        }
        say("loaded run \(id) \(stored.run.label) after step \(try learned.loadCheckpoint(from: ckpt)) from \(ckpt)")
    }
}
