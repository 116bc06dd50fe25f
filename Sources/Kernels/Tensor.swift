// Tensor: a shape plus a flat, 64-byte-aligned, owned Float32 buffer (llm.c style).
// The shape is fixed for the tensor's lifetime; layers reallocate only when a batch size changes
// (see `reusing(_:shape:)`), so a training step allocates nothing.

/// A dense row-major Float32 array with a fixed shape. Reference semantics: copying the
/// reference shares the storage (like an llm.c pointer), so hold one per activation.
public final class Tensor: @unchecked Sendable {
    public let shape: [Int]
    public let count: Int
    /// The raw storage: `count` floats, 64-byte aligned, zero-initialised.
    public let data: UnsafeMutablePointer<Float>

    public init(shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        data = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        data.initialize(repeating: 0, count: max(count, 1))
    }

    public convenience init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count, "Tensor: \(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    public convenience init(shape: [Int], repeating value: Float) {
        self.init(shape: shape)
        data.update(repeating: value, count: count)
    }

    deinit { UnsafeMutableRawPointer(data).deallocate() }

    /// A copy of the contents as a Swift array.
    public var values: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    public subscript(i: Int) -> Float {
        get { precondition(i >= 0 && i < count); return data[i] }
        set { precondition(i >= 0 && i < count); data[i] = newValue }
    }

    public func zero() { data.update(repeating: 0, count: count) }

    public func copy(from other: Tensor) {
        precondition(other.count == count, "Tensor.copy: \(other.shape) into \(shape)")
        data.update(from: other.data, count: count)
    }

    public func copy(from values: [Float]) {
        precondition(values.count == count, "Tensor.copy: \(values.count) values into \(shape)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }
}

/// Returns `existing` when it already has `shape`, else a fresh zeroed tensor.
/// Used by layers to allocate activation/gradient buffers once per batch size.
@inline(__always)
public func reusing(_ existing: Tensor?, shape: [Int]) -> Tensor {
    if let t = existing, t.shape == shape { return t }
    return Tensor(shape: shape)
}
