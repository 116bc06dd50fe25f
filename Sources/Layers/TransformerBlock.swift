// The pre-norm transformer block (ViT):
//   y1 = x + Attention(LayerNorm1(x));   y = y1 + MLP(LayerNorm2(y1)),   MLP = Linear(C, rC) → GELU → Linear(rC, C)
// x, y: [B, T, C]. Backward: dy1 = dy + dLN2(dMLP(dy));  dx = dy1 + dLN1(dAttn(dy1)).
import Kernels

public final class TransformerBlock: Layer {
    public let norm1: LayerNorm
    public let attention: MultiHeadAttention
    public let norm2: LayerNorm
    public let fc1: Linear, gelu: GELU, fc2: Linear
    private var mid: Tensor?, output: Tensor?, dMid: Tensor?, dInput: Tensor?

    /// causal: the attention's queries see only earlier positions (an autoregressive prior).
    public init(features C: Int, heads: Int, mlpRatio: Int = 4, causal: Bool = false, params: ParameterSet, name: String) {
        norm1 = LayerNorm(C, params: params, name: "\(name).norm1")
        attention = MultiHeadAttention(features: C, heads: heads, causal: causal, params: params, name: "\(name).attn")
        norm2 = LayerNorm(C, params: params, name: "\(name).norm2")
        fc1 = Linear(C, mlpRatio * C, params: params, name: "\(name).mlp.fc1")
        gelu = GELU()
        fc2 = Linear(mlpRatio * C, C, params: params, name: "\(name).mlp.fc2")
    }

    public func forward(_ x: Tensor) -> Tensor {
        let a = attention.forward(norm1.forward(x))
        let y1 = reusing(mid, shape: x.shape); mid = y1
        for i in 0..<x.count { y1.data[i] = x.data[i] + a.data[i] }
        let m = fc2.forward(gelu.forward(fc1.forward(norm2.forward(y1))))
        let y = reusing(output, shape: x.shape); output = y
        for i in 0..<x.count { y.data[i] = y1.data[i] + m.data[i] }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let d2 = norm2.backward(fc1.backward(gelu.backward(fc2.backward(dy))))
        let dy1 = reusing(dMid, shape: dy.shape); dMid = dy1
        for i in 0..<dy.count { dy1.data[i] = dy.data[i] + d2.data[i] }
        let d1 = norm1.backward(attention.backward(dy1))
        let dx = reusing(dInput, shape: dy.shape); dInput = dx
        for i in 0..<dy.count { dx.data[i] = dy1.data[i] + d1.data[i] }
        return dx
    }

    public var forwardFLOPs: Double { attention.forwardFLOPs + fc1.forwardFLOPs + fc2.forwardFLOPs }
}
