// Res(h, r): x + conv1×1(r→h)(ReLU(conv3×3 pad 1(h→r)(ReLU(x)))). x, y: [h, B, H, W].
// PyTorch names: "<name>.block.1.*" (3×3 conv), "<name>.block.3.*" (1×1 conv), matching
// `self.block = nn.Sequential(ReLU(), Conv2d(h, r, 3, padding=1), ReLU(), Conv2d(r, h, 1))`.
import Kernels

public final class ResidualBlock: Layer {
    public let relu1 = ReLU()
    public let conv3: Conv2d
    public let relu2 = ReLU()
    public let conv1: Conv2d
    private var output: Tensor?
    private var dInput: Tensor?

    public init(hidden: Int, residual: Int, params: ParameterSet, name: String) {
        conv3 = Conv2d(hidden, residual, kernel: 3, padding: 1, params: params, name: "\(name).block.1")
        conv1 = Conv2d(residual, hidden, kernel: 1, params: params, name: "\(name).block.3")
    }

    public func forward(_ x: Tensor) -> Tensor {
        let branch = conv1.forward(relu2.forward(conv3.forward(relu1.forward(x))))
        let y = reusing(output, shape: x.shape); output = y
        add(x.data, branch.data, into: y.data, count: x.count)
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let dBranch = relu1.backward(conv3.backward(relu2.backward(conv1.backward(dy))))
        let dx = reusing(dInput, shape: dy.shape); dInput = dx
        add(dy.data, dBranch.data, into: dx.data, count: dy.count)
        return dx
    }

    public var forwardFLOPs: Double { conv3.forwardFLOPs + conv1.forwardFLOPs }
}
