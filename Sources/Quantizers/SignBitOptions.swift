import Settings

/// The settings of the sign-bit quantizers (LFQ and BSQ: one bit per latent channel, an entropy
/// penalty), declared once in `options`; each quantizer's `Options` gives its own default temperature
/// and bit limit, and LFQ adds its stabilizers.
public struct SignBitOptions: Equatable, Sendable {
    public var bits = 0                // d, V = 2^d
    public var entropyWeight: Float = 0    // w
    public var diversity: Float = 0        // γ
    public var commitment: Float = 0       // β
    public var temperature: Float = 0      // τ
    /// LFQ stabilizers (LFQ only): a non-affine GroupNorm (one group) on the d bit channels before the sign,
    /// and the entropy weight boosted early: w·(1 + boost·max(0, 1 − step/boost_steps)).
    public var norm = false
    public var entropyBoost: Float = 0
    public var entropyBoostSteps = 0
    public static let unset = SignBitOptions()
    private init() {}

    /// The options LFQ and BSQ share, with the quantizer's default temperature and largest d.
    public static func options(temperature: Double, maxBits: Int, temperatureMeaning: String) -> [Option<SignBitOptions>] {
        [
            .int("bits", \.bits, default: 10, "d: bits per token, V = 2^d", check: ConfigKey.intIn(1...maxBits)),
            .float("entropy_weight", \.entropyWeight, default: 0.1, "weight of the entropy penalty", check: ConfigKey.nonNegative),
            .float("diversity", \.diversity, default: 1.0, "gamma: weight of the batch (codebook) entropy inside the penalty"),
            .commitment(\.commitment),
            .float("temperature", \.temperature, default: temperature, temperatureMeaning, check: ConfigKey.positive),
        ]
    }

    /// The LFQ stabilizers.
    public static var stabilizers: [Option<SignBitOptions>] {
        [
            .bool("norm", \.norm, default: false, "a non-affine GroupNorm (one group) on the bit channels before the sign"),
            .float("entropy_boost", \.entropyBoost, default: 0, "entropy weight times (1 + boost * max(0, 1 - step/entropy_boost_steps)) (Open-MAGVIT2's codebook_enlarge_ratio; 0: constant)", check: ConfigKey.nonNegative),
            .int("entropy_boost_steps", \.entropyBoostSteps, default: 2000, "steps over which the entropy boost decays to 0 (Open-MAGVIT2's codebook_enlarge_steps)", check: ConfigKey.intIn(1...10_000_000)),
        ]
    }
}
