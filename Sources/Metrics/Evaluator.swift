import MetricCatalogue
import Foundation
import Datasets
import Tokenizers

/// Final numbers of one tokenizer on an eval split, by catalogue metric.
public struct EvaluationReport: Sendable {
    public var values: [MetricValue]
    public var reconstruction: ImageBatch   // decode(encode(eval)), [B, C, H, W]
    public var tokens: Tokens
    public func value(_ metric: Metric) -> Double? { values.first { $0.metric == metric }?.value }
}

/// The one evaluator: encode → decode the eval images in batches, then measure.
public enum Evaluator {
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
        var values: [MetricValue] = [
            (.psnr, fid.psnr),
            (.psnrOfMeanMSE, fid.psnrOfMeanMSE),
            (.mse, fid.mse),
            (.exactFraction, fid.exactFraction),
            (.lossless, fid.lossless ? 1 : 0),
            (.maxAbsError, Double(fid.maxAbsError)),
            (.tokensPerImage, Double(tokenizer.tokensPerImage)),
            (.log2Vocab, log2V),
            (.capacityBPB, InformationBudget.capacityBitsPerByte(tokens: tokenizer.tokensPerImage, log2V: log2V, bytesPerImage: eval.bytesPerImage)),
            (.distinctTokens, Double(stats.distinct)),
            (.evalImages, Double(eval.count)),
            (.evalSeconds, seconds),
        ]
        if full {
            values.append((.ssim, SSIM.mean(original: eval, reconstruction: reconstruction)))
            let rate = TokenRate.measure(tokens)
            let bytes = Double(eval.pixels.count)
            values += [(.tokenRateBPB, Double(rate.codedBits) / bytes), (.tokenRateOrder0BPB, Double(rate.order0Bits) / bytes),
                       (.tokenRateContextBPB, Double(rate.contextBits) / bytes), (.tokenEntropyBPB, rate.entropyBits / bytes)]
        }
        if log2V <= 53 { values.append((.codebookSize, pow(2, log2V).rounded())) }
        if let u = stats.usage { values.append((.usage, u)) }
        if let p = stats.perplexity { values.append((.perplexity, p)) }
        return EvaluationReport(values: values, reconstruction: reconstruction, tokens: tokens)
    }
}
