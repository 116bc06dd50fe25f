import Foundation

/// The information budget of an H×W×C image: what L tokens of log2 V bits can carry against
/// what the data holds (b bits per raw byte).
public enum InformationBudget {
    /// Capacity in bits per raw byte: L·log2V / (H·W·C).
    public static func capacityBitsPerByte(tokens L: Int, log2V: Double, bytesPerImage: Int) -> Double {
        Double(L) * log2V / Double(bytesPerImage)
    }

    /// Smallest log2 V that can hold the image losslessly at L tokens: H·W·C·b / L.
    public static func minLog2VForLossless(bytesPerImage: Int, bitsPerByte b: Double, tokens L: Int) -> Double {
        Double(bytesPerImage) * b / Double(L)
    }

    /// Rows of the seed's table: for each L, the minimum log2 V at b bits per byte.
    public static func table(bytesPerImage: Int, bitsPerByte b: Double, lengths: [Int]) -> [(tokens: Int, minLog2V: Double)] {
        lengths.map { ($0, minLog2VForLossless(bytesPerImage: bytesPerImage, bitsPerByte: b, tokens: $0)) }
    }
}
