// One flat parameter buffer per model: every weight and bias is a slice [offset, offset+count) of
// `values`, with the matching slice of `grads`. Layers register tensors while the model is built
// (initialised immediately from the set's seeded RNG, in registration order), then `finalize()`
// copies them into the contiguous buffers. Names follow PyTorch's state_dict ("encoder.0.weight").
import Kernels

public struct ParameterEntry: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public let offset: Int
    public var count: Int { shape.reduce(1, *) }
}

public enum ParameterInit: Sendable {
    case zeros
    case ones
    /// Uniform(−bound, bound).
    case uniform(bound: Float)
    /// Normal(0, std).
    case normal(std: Float)
    /// PyTorch's default for Conv/Linear weights: kaiming_uniform_(a=√5) = U(±1/√fan_in)
    /// (gain √(2/(1+a²)) · √(3/fan_in) = 1/√fan_in). Biases use the same bound.
    case pytorchDefault(fanIn: Int)
}

public final class ParameterSet {
    public private(set) var entries: [ParameterEntry] = []
    public private(set) var rng: SplitMix64
    private var pending: [Float] = []
    private var _values: Tensor?
    private var _grads: Tensor?

    public init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// Total number of scalars.
    public var count: Int { _values?.count ?? pending.count }

    /// Registers a tensor and returns its offset into the flat buffer. Only before `finalize()`.
    @discardableResult
    public func register(_ name: String, shape: [Int], initializer: ParameterInit) -> Int {
        precondition(_values == nil, "ParameterSet: register(\(name)) after finalize()")
        precondition(!entries.contains { $0.name == name }, "ParameterSet: duplicate name \(name)")
        let offset = pending.count
        let n = shape.reduce(1, *)
        entries.append(ParameterEntry(name: name, shape: shape, offset: offset))
        pending.reserveCapacity(offset + n)
        switch initializer {
        case .zeros: pending.append(contentsOf: repeatElement(0, count: n))
        case .ones: pending.append(contentsOf: repeatElement(1, count: n))
        case .uniform(let bound):
            for _ in 0..<n { pending.append(rng.uniform(-bound, bound)) }
        case .normal(let std):
            for _ in 0..<n { pending.append(rng.normal(mean: 0, std: std)) }
        case .pytorchDefault(let fanIn):
            let bound = fanIn > 0 ? 1 / Float(fanIn).squareRoot() : 0
            for _ in 0..<n { pending.append(rng.uniform(-bound, bound)) }
        }
        return offset
    }

    /// Allocates the contiguous `values`/`grads` buffers. Idempotent; called implicitly on first access.
    public func finalize() {
        if _values != nil { return }
        let v = Tensor(shape: [pending.count], values: pending)
        _values = v
        _grads = Tensor(shape: [pending.count])
        pending = []
    }

    /// All parameters, flat: [count].
    public var values: Tensor { finalize(); return _values! }
    /// All gradients, flat: [count]; layers accumulate into it, `zeroGrads()` clears it.
    public var grads: Tensor { finalize(); return _grads! }

    public func zeroGrads() { grads.zero() }

    public func entry(named name: String) -> ParameterEntry? { entries.first { $0.name == name } }

    /// Copy of one named tensor's values.
    public func tensorValues(_ name: String) -> [Float]? {
        guard let e = entry(named: name) else { return nil }
        return Array(UnsafeBufferPointer(start: values.data + e.offset, count: e.count))
    }

    @inline(__always) public func value(_ offset: Int) -> UnsafeMutablePointer<Float> { values.data + offset }
    @inline(__always) public func grad(_ offset: Int) -> UnsafeMutablePointer<Float> { grads.data + offset }
}
