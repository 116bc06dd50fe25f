import Foundation

/// The seed's table: minimum log2 V for a lossless tokenization at each L.
public enum BudgetTable {
    public static func render(bytesPerImage: Int, shape: String, bitsPerByte b: Double, lengths: [Int]) -> String {
        var out = String(format: "image %@ = %d bytes at %.3f bits/byte = %.0f bits per image\n", shape, bytesPerImage, b, Double(bytesPerImage) * b)
        out += "      L   min log2 V (lossless)   bits/token\n"
        for row in InformationBudget.table(bytesPerImage: bytesPerImage, bitsPerByte: b, lengths: lengths) {
            out += String(format: "%7d   %21.2f   V >= 2^%.2f\n", row.tokens, row.minLog2V, row.minLog2V)
        }
        return out
    }
}
