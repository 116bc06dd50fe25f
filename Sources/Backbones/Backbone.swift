// What a latent tokenizer needs of its backbone (ARCHITECTURE.md, "How to add …", a backbone): the latent size D,
// the token grid for an image size, and an encoder and a decoder (engine layers, channel-major):
//   encoder: x [C, B, H, W] → z [D, B, h, w];  decoder: ẑ [D, B, h, w] → x̂ [C, B, H, W];  L = h·w.
// The encoder is built before the quantizer and the decoder after it, so parameters register (and
// draw their initial values) in the order encoder, quantizer, decoder.
import Kernels
import Layers

public protocol Backbone: Sendable {
    /// D: channels of z.
    var latent: Int { get }
    /// (h, w): the token grid of an H×W image.
    func latentSize(height: Int, width: Int) -> (Int, Int)
    func makeEncoder(params: ParameterSet) -> Layer
    func makeDecoder(params: ParameterSet) -> Layer
}

extension BackboneConfig: Backbone {
    public func makeEncoder(params: ParameterSet) -> Layer { ConvEncoder(config: self, params: params) }
    public func makeDecoder(params: ParameterSet) -> Layer { ConvDecoder(config: self, params: params) }
}

extension ConvEncoder: Layer {}
extension ConvDecoder: Layer {}
