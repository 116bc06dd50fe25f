import MetricCatalogue
import Foundation
import Datasets
import Tokenizers

/// Final numbers of one tokenizer on an eval split, by catalogue metric.
public struct EvaluationReport: Sendable {
    public var values: [MetricValue]
    public var reconstruction: ImageBatch   // decode(encode(eval)), [B, C, H, W]
    public var tokens: Tokens?
    /// Per-image values of `Metric.perImage` ([B] each, eval order), stored with the run.
    public var perImage: [(metric: Metric, values: [Double])] = []
    public func value(_ metric: Metric) -> Double? { values.first { $0.metric == metric }?.value }
}

/// The one evaluator: every tokenizer's outputs, native or produced elsewhere, are measured here.
public enum Evaluator {
    /// encode → decode the eval images in batches, then measure. `full`: also SSIM and the
    /// token-stream rate (off for the quick checks during training).
    public static func evaluate(_ tokenizer: Tokenizer, on eval: ImageBatch, batchSize: Int = 256, full: Bool = true) -> EvaluationReport {
        measure(eval, outputs(tokenizer, on: eval, batchSize: batchSize), full: full)
    }

    /// A native tokenizer's tokens and reconstructions of `eval`, in batches.
    public static func outputs(_ tokenizer: Tokenizer, on eval: ImageBatch, batchSize: Int = 256) -> TokenizerOutputs {
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
        var words: [UInt32] = []
        for t in tokenParts { words.append(contentsOf: t.words) }
        let first = tokenParts[0]
        let tokens = Tokens(count: eval.count, gridRows: first.gridRows, gridCols: first.gridCols,
                            wordsPerToken: first.wordsPerToken, wordRange: first.wordRange, words: words)
        return TokenizerOutputs(tokens: tokens, reconstruction: ImageBatch.concatenate(recon), log2Vocab: tokenizer.log2VocabularySize,
                                seconds: seconds)
    }

    /// Every catalogue number of `outputs` against the originals `eval` (same count and geometry).
    public static func measure(_ eval: ImageBatch, _ outputs: TokenizerOutputs, full: Bool = true) -> EvaluationReport {
        let reconstruction = outputs.reconstruction
        let fid = fidelity(original: eval, reconstruction: reconstruction)
        var values: [MetricValue] = [
            (.psnr, fid.psnr),
            (.psnrOfMeanMSE, fid.psnrOfMeanMSE),
            (.mse, fid.mse),
            (.exactFraction, fid.exactFraction),
            (.lossless, fid.lossless ? 1 : 0),
            (.maxAbsError, Double(fid.maxAbsError)),
        ]
        var perImage: [(metric: Metric, values: [Double])] = [(.psnr, fid.perImagePSNR)]
        if fid.psnr.isFinite, let h = Statistics.normalInterval(fid.perImagePSNR).halfWidth { values.append((.psnrCI95, h)) }
        var stats: TokenStatistics? = nil
        if let tokens = outputs.tokens {
            let s = tokenStatistics(tokens)
            stats = s
            values.append((.tokensPerImage, Double(tokens.length)))
            if let log2V = outputs.log2Vocab {
                values += [(.log2Vocab, log2V),
                           (.capacityBPB, InformationBudget.capacityBitsPerByte(tokens: tokens.length, log2V: log2V, bytesPerImage: eval.bytesPerImage))]
            }
            values.append((.distinctTokens, Double(s.distinct)))
        }
        values += [(.evalImages, Double(eval.count)), (.evalSeconds, outputs.seconds)]
        if full {
            let ssims = SSIM.perImage(original: eval, reconstruction: reconstruction)
            let interval = Statistics.normalInterval(ssims)
            values.append((.ssim, interval.mean))
            if let h = interval.halfWidth { values.append((.ssimCI95, h)) }
            perImage.append((.ssim, ssims))
            if let tokens = outputs.tokens {
                let rate = TokenRate.measure(tokens)
                let bytes = Double(eval.pixels.count)
                values += [(.tokenRateBPB, Double(rate.codedBits) / bytes), (.tokenRateOrder0BPB, Double(rate.order0Bits) / bytes),
                           (.tokenRateContextBPB, Double(rate.contextBits) / bytes), (.tokenEntropyBPB, rate.entropyBits / bytes)]
            }
        }
        if let log2V = outputs.log2Vocab, outputs.tokens != nil, log2V <= 53 { values.append((.codebookSize, pow(2, log2V).rounded())) }
        if let u = stats?.usage { values.append((.usage, u)) }
        if let p = stats?.perplexity { values.append((.perplexity, p)) }
        values += outputs.extra
        return EvaluationReport(values: values, reconstruction: reconstruction, tokens: outputs.tokens, perImage: perImage)
    }
}
