import Foundation
import Datasets
import Tokenizers

/// Final numbers of one tokenizer on an eval split. Keys are the `result` keys of the store.
public struct EvaluationReport: Sendable {
    public var values: [(key: String, value: Double)]
    public var reconstruction: ImageBatch   // decode(encode(eval)), [B, C, H, W]
    public var tokens: Tokens
    public func value(_ key: String) -> Double? { values.first { $0.key == key }?.value }
}

/// The one evaluator: encode → decode the eval images in batches, then measure.
public enum Evaluator {
    /// Definitions recorded with every run, so results stand on their own.
    public static let definitions: [(key: String, text: String)] = [
        ("psnr", "mean over eval images of per-image 10*log10(255^2/MSE) on 8-bit reconstructions (round+clamp); an exact image counts at 10*log10(255^2*C*H*W) (one byte off by one); +inf only when every image is exact (lossless=1)"),
        ("psnr_of_mean_mse", "10*log10(255^2/mean MSE) over the eval set"),
        ("ssim", "mean over eval images of SSIM (Gaussian 11x11, sigma 1.5, K1=0.01, K2=0.03, L=255, valid window positions, mean over channels)"),
        ("capacity_bpb", "L*log2(V)/(H*W*C) bits per raw byte"),
        ("usage", "fraction of the V codes used at least once on the eval set; for multi-word tokens (RVQ stages, raw-patch values) the mean over word positions of the fraction of that word's values used; only when a word has <= 2^24 values"),
        ("token_rate_bpb", "real bits of the eval token stream under tokbench's adaptive binary arithmetic coder (best of order-0 and left/up-neighbour context; one stream per word position, adaptive over the whole eval set) / raw eval bytes"),
        ("token_entropy_bpb", "order-0 empirical entropy of the eval words (per word position) x count / raw eval bytes"),
        ("data_bpb", "lossless bits per byte of the eval images: best of the coders run, each image coded alone (state reset, header included); per-coder figures as data_bpb_<coder>"),
        ("deficit_bpb", "data_bpb - capacity_bpb: bits per byte the tokenizer cannot carry"),
        ("min_log2v_lossless", "H*W*C*data_bpb/L: the smallest log2 V that could hold the data losslessly at this L"),
        ("perplexity", "2^(entropy of eval code frequencies), per word position and averaged"),
    ]

    /// `full`: also SSIM and the token-stream rate (off for the quick checks during training).
    public static func evaluate(_ tokenizer: Tokenizer, on eval: ImageBatch, batchSize: Int = 256, full: Bool = true) -> EvaluationReport {
        let start = Date()
        var recon: [ImageBatch] = []
        var tokenParts: [Tokens] = []
        var b = 0
        while b < eval.count {
            let part = eval.slice(b..<min(eval.count, b + batchSize))
            let t = tokenizer.encode(part)
            tokenParts.append(t)
            recon.append(tokenizer.decode(t))
            b += batchSize
        }
        let seconds = Date().timeIntervalSince(start)
        let reconstruction = ImageBatch.concatenate(recon)
        var words: [UInt32] = []
        for t in tokenParts { words.append(contentsOf: t.words) }
        let first = tokenParts[0]
        let tokens = Tokens(count: eval.count, gridRows: first.gridRows, gridCols: first.gridCols,
                            wordsPerToken: first.wordsPerToken, wordRange: first.wordRange, words: words)

        let fid = fidelity(original: eval, reconstruction: reconstruction)
        let stats = tokenStatistics(tokens)
        let log2V = tokenizer.log2VocabularySize
        var values: [(key: String, value: Double)] = [
            ("psnr", fid.psnr),
            ("psnr_of_mean_mse", fid.psnrOfMeanMSE),
            ("mse", fid.mse),
            ("exact_fraction", fid.exactFraction),
            ("lossless", fid.lossless ? 1 : 0),
            ("max_abs_error", Double(fid.maxAbsError)),
            ("tokens_per_image", Double(tokenizer.tokensPerImage)),
            ("log2_vocab", log2V),
            ("capacity_bpb", InformationBudget.capacityBitsPerByte(tokens: tokenizer.tokensPerImage, log2V: log2V, bytesPerImage: eval.bytesPerImage)),
            ("distinct_tokens", Double(stats.distinct)),
            ("eval_images", Double(eval.count)),
            ("eval_seconds", seconds),
        ]
        if full {
            values.append(("ssim", SSIM.mean(original: eval, reconstruction: reconstruction)))
            let rate = TokenRate.measure(tokens)
            let bytes = Double(eval.pixels.count)
            values += [("token_rate_bpb", Double(rate.codedBits) / bytes), ("token_rate_order0_bpb", Double(rate.order0Bits) / bytes),
                       ("token_rate_context_bpb", Double(rate.contextBits) / bytes), ("token_entropy_bpb", rate.entropyBits / bytes)]
        }
        if log2V <= 53 { values.append(("codebook_size", pow(2, log2V).rounded())) }
        if let u = stats.usage { values.append(("usage", u)) }
        if let p = stats.perplexity { values.append(("perplexity", p)) }
        return EvaluationReport(values: values, reconstruction: reconstruction, tokens: tokens)
    }
}
