import Settings

/// The settings of the sign-bit quantizers (LFQ and BSQ: one bit per latent channel, an entropy
/// penalty), declared once; each quantizer gives its own default temperature and bit limit.
public struct SignBitOptions: Equatable, Sendable, Decodable {
    public var bits: Int               // d, V = 2^d
    public var entropyWeight: Float    // w
    public var diversity: Float        // γ
    public var commitment: Float       // β
    public var temperature: Float      // τ
    /// LFQ stabilizers (LFQ only): a non-affine GroupNorm (one group) on the d bit channels before the sign,
    /// and the entropy weight boosted early: w·(1 + boost·max(0, 1 − step/boost_steps)).
    public var norm = false
    public var entropyBoost: Float = 0
    public var entropyBoostSteps = SignBitOptions.defaultBoostSteps
    /// Steps over which the entropy boost decays (Open-MAGVIT2's codebook_enlarge_steps), declared once.
    public static let defaultBoostSteps = 2000
    enum CodingKeys: String, CodingKey {
        case bits, entropyWeight = "entropy_weight", diversity, commitment, temperature, norm, entropyBoost = "entropy_boost", entropyBoostSteps = "entropy_boost_steps"
    }

    public init(bits: Int = 10, entropyWeight: Float = 0.1, diversity: Float = 1, commitment: Float = 0.25, temperature: Float) {
        self.bits = bits; self.entropyWeight = entropyWeight; self.diversity = diversity; self.commitment = commitment; self.temperature = temperature
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        bits = try c.decode(Int.self, forKey: .bits)
        entropyWeight = Float(try c.decode(Double.self, forKey: .entropyWeight))
        diversity = Float(try c.decode(Double.self, forKey: .diversity))
        commitment = Float(try c.decode(Double.self, forKey: .commitment))
        temperature = Float(try c.decode(Double.self, forKey: .temperature))
        norm = try c.decodeIfPresent(Bool.self, forKey: .norm) ?? false
        entropyBoost = Float(try c.decodeIfPresent(Double.self, forKey: .entropyBoost) ?? 0)
        entropyBoostSteps = try c.decodeIfPresent(Int.self, forKey: .entropyBoostSteps) ?? Self.defaultBoostSteps
    }

    /// The LFQ stabilizers' keys.
    public static let stabilizerKeys: [ConfigKey] = [
        ConfigKey("norm", .bool, default: .bool(false), "a non-affine GroupNorm (one group) on the bit channels before the sign"),
        ConfigKey("entropy_boost", .double, default: .double(0), "entropy weight times (1 + boost * max(0, 1 - step/entropy_boost_steps)) (Open-MAGVIT2's codebook_enlarge_ratio; 0: constant)", check: ConfigKey.nonNegative),
        ConfigKey("entropy_boost_steps", .int, default: .int(defaultBoostSteps), "steps over which the entropy boost decays to 0 (Open-MAGVIT2's codebook_enlarge_steps)", check: ConfigKey.intIn(1...10_000_000)),
    ]

    public static func keys(temperature: Double, maxBits: Int, temperatureMeaning: String) -> [ConfigKey] {
        [
            ConfigKey("bits", .int, default: .int(10), "d: bits per token, V = 2^d", check: ConfigKey.intIn(1...maxBits)),
            ConfigKey("entropy_weight", .double, default: .double(0.1), "weight of the entropy penalty", check: ConfigKey.nonNegative),
            ConfigKey("diversity", .double, default: .double(1.0), "gamma: weight of the batch (codebook) entropy inside the penalty"),
            ConfigKey("commitment", .double, default: .double(0.25), "commitment weight beta", check: ConfigKey.nonNegative),
            ConfigKey("temperature", .double, default: .double(temperature), temperatureMeaning, check: ConfigKey.positive),
        ]
    }
}
