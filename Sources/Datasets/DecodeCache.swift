import Foundation

/// A source read through a bounded cache of decoded images (ARCHITECTURE.md, "Data flow"): training draws
/// its batches by index from a split that need not fit in memory. An image decoded once is kept until the
/// byte budget needs its slot (clock replacement: a slot used since the hand last passed gets a second
/// chance). What a batch holds never depends on the cache: it is the images at its indices, decoded or
/// kept. gather: [indices.count, C, H, W]
public final class CachedImageSource: ImageSource, @unchecked Sendable {
    public let base: any ImageSource
    /// Images the budget holds (at least 1, at most the split).
    public let capacity: Int
    public var count: Int { base.count }
    public var channels: Int { base.channels }
    public var height: Int { base.height }
    public var width: Int { base.width }

    /// The budget in bytes: TOKBENCH_DECODE_CACHE_MB (default 1,024 MiB).
    public static let budgetBytes: Int = (ProcessInfo.processInfo.environment["TOKBENCH_DECODE_CACHE_MB"].flatMap { Int($0) }.map { min(max(1, $0), 1 << 30) } ?? 1024) << 20

    let lock = NSLock()
    var slotOf: [Int: Int] = [:]      // image index → slot
    var owner: [Int] = []             // slot → image index
    var used: [Bool] = []             // slot → used since the hand passed
    var storage: [UInt8] = []         // [slots, C, H, W], grown slot by slot up to capacity
    var hand = 0
    /// Images decoded so far (a miss each); tests and logs read it.
    public private(set) var decoded = 0

    public init(_ base: any ImageSource, budgetBytes: Int = CachedImageSource.budgetBytes) {
        self.base = base
        capacity = max(1, min(base.count, budgetBytes / max(1, base.bytesPerImage)))
    }

    public func read(_ range: Range<Int>) throws -> ImageBatch { try gather(Array(range)) }

    public func gather(_ indices: [Int]) throws -> ImageBatch {
        let n = bytesPerImage
        var out = ImageBatch(count: indices.count, channels: channels, height: height, width: width)
        // Kept images are copied out first (so inserting this batch's misses cannot evict them), then the
        // misses are decoded (outside the lock; the base decodes in parallel) and copied out and kept.
        var missing: [Int] = [], seen = Set<Int>()
        lock.lock()
        for (k, i) in indices.enumerated() {
            precondition(i >= 0 && i < count, "image \(i) outside the split's 0..<\(count)")
            if let s = slotOf[i] {
                used[s] = true
                out.pixels.replaceSubrange((k * n)..<((k + 1) * n), with: storage[(s * n)..<((s + 1) * n)])
            } else if seen.insert(i).inserted { missing.append(i) }
        }
        lock.unlock()
        guard !missing.isEmpty else { return out }
        let fresh = try base.gather(missing)
        lock.lock(); defer { lock.unlock() }
        decoded += missing.count
        var at: [Int: Int] = [:]
        for (m, i) in missing.enumerated() { at[i] = m; keep(i, fresh.pixels[(m * n)..<((m + 1) * n)]) }
        for (k, i) in indices.enumerated() {
            if let m = at[i] { out.pixels.replaceSubrange((k * n)..<((k + 1) * n), with: fresh.pixels[(m * n)..<((m + 1) * n)]) }
        }
        return out
    }

    /// Puts image i in a free slot, or in the one the clock hand picks.
    func keep(_ i: Int, _ pixels: ArraySlice<UInt8>) {
        guard slotOf[i] == nil else { return }
        let n = bytesPerImage
        if owner.count < capacity {
            if storage.isEmpty { storage.reserveCapacity(capacity * n) }   // once: growth never copies (pages are touched as slots fill)
            slotOf[i] = owner.count; owner.append(i); used.append(false); storage.append(contentsOf: pixels)
            return
        }
        while used[hand] { used[hand] = false; hand = (hand + 1) % capacity }
        slotOf[owner[hand]] = nil
        slotOf[i] = hand; owner[hand] = i
        storage.replaceSubrange((hand * n)..<((hand + 1) * n), with: pixels)
        hand = (hand + 1) % capacity
    }
}
