import ArgumentParser
import Foundation
import Datasets

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Prepare a dataset: `data photos` cuts the Debian photographs into cached tiles.")

    enum Name: String, ExpressibleByArgument { case photos }

    @Argument(help: "Dataset to prepare (photos).") var name: Name
    @Option(help: "Tile sizes, comma separated.") var tiles: String = "64,128"
    @OptionGroup var store: StoreOptions
    var cache: String { store.cacheDir }
    @Option(help: "Photos held out for eval (for the printed split).") var evalPhotos: Int = 4
    @Option(help: "Seed of the printed split.") var seed: UInt64 = 0

    var tileSizes: [Int] { tiles.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        guard !tileSizes.isEmpty, tileSizes.allSatisfy({ [64, 128].contains($0) }) else { throw ValidationError("--tiles takes 64 and/or 128") }
        guard evalPhotos >= 1 else { throw ValidationError("--eval-photos must be at least 1") }
    }

    func run() throws {
        try PhotoSet.prepare(cacheDir: cache, tiles: tileSizes, evalPhotos: evalPhotos, seed: seed, say: { print($0) })
    }
}
