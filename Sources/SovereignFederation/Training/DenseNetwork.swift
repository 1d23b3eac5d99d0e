import Foundation

/// A stack of fully connected layers with ReLU between them and softmax cross-entropy on top, over one
/// flat parameter buffer: layer after layer, its weight (`[outputs, inputs]`, PyTorch `nn.Linear`'s
/// layout) then its bias — the order of the model's tensors.
struct DenseNetwork {
    struct Layer {
        let inputs: Int
        let outputs: Int
        let weightOffset: Int
        let biasOffset: Int
    }

    let layers: [Layer]
    let parameterCount: Int

    /// - Parameter widths: the input width, then each layer's output width (at least two numbers).
    init(widths: [Int]) {
        var layers: [Layer] = []
        var offset = 0
        for (inputs, outputs) in zip(widths, widths.dropFirst()) {
            layers.append(
                Layer(inputs: inputs, outputs: outputs, weightOffset: offset, biasOffset: offset + inputs * outputs)
            )
            offset += inputs * outputs + outputs
        }
        self.layers = layers
        self.parameterCount = offset
    }

    var inputWidth: Int { layers[0].inputs }
    var classCount: Int { layers[layers.count - 1].outputs }
}

/// Scratch memory for forward and backward passes over minibatches of up to `batchCapacity` examples,
/// allocated once per training or evaluation run so the passes allocate nothing.
final class DenseWorkspace {
    let network: DenseNetwork
    let batchCapacity: Int
    /// The scaled input batch, `batchCapacity × inputWidth`.
    private let input: UnsafeMutablePointer<Float>
    /// Each layer's outputs (after ReLU for hidden layers, logits for the last), `batchCapacity × outputs`.
    private let activations: [UnsafeMutablePointer<Float>]
    /// The loss's gradient with respect to each layer's pre-activation outputs.
    private let deltas: [UnsafeMutablePointer<Float>]
    /// One layer's weight transposed to `[inputs, outputs]`, so the forward product runs along rows.
    private let transposed: UnsafeMutablePointer<Float>

    init(network: DenseNetwork, batchCapacity: Int) {
        self.network = network
        self.batchCapacity = batchCapacity
        input = .allocate(capacity: batchCapacity * network.inputWidth)
        activations = network.layers.map { .allocate(capacity: batchCapacity * $0.outputs) }
        deltas = network.layers.map { .allocate(capacity: batchCapacity * $0.outputs) }
        transposed = .allocate(capacity: network.layers.map { $0.inputs * $0.outputs }.max()!)
    }

    deinit {
        input.deallocate()
        for buffer in activations { buffer.deallocate() }
        for buffer in deltas { buffer.deallocate() }
        transposed.deallocate()
    }

    /// Runs the network on the examples `rows[0..<count]` of `features`/`labels`.
    ///
    /// With a `gradient`, adds `lossScale ×` the gradient of the summed cross-entropy over these examples
    /// to it (the caller zeroes it; `lossScale` is 1/batch size for a batch's mean loss).
    /// - Returns: the summed cross-entropy and the number of examples whose largest logit is their label.
    func run(
        parameters: UnsafePointer<Float>,
        gradient: UnsafeMutablePointer<Float>?,
        lossScale: Float,
        features: UnsafePointer<Float>,
        labels: UnsafePointer<Int32>,
        rows: UnsafePointer<Int>,
        count: Int,
        scaling: FeatureScaling
    ) -> (lossSum: Double, correct: Int) {
        let d = network.inputWidth
        for r in 0..<count {
            scaling.scale(features + rows[r] * d, into: input + r * d, count: d)
        }
        let layers = network.layers
        for (l, layer) in layers.enumerated() {
            let source = l == 0 ? UnsafePointer(input) : UnsafePointer(activations[l - 1])
            transpose(parameters + layer.weightOffset, rows: layer.outputs, columns: layer.inputs, into: transposed)
            multiplyAddBias(
                source,
                rows: count,
                inner: layer.inputs,
                transposed,
                columns: layer.outputs,
                bias: parameters + layer.biasOffset,
                into: activations[l]
            )
            if l < layers.count - 1 {
                let a = activations[l]
                for i in 0..<(count * layer.outputs) where a[i] < 0 { a[i] = 0 }
            }
        }
        let result = softmaxCrossEntropy(
            logits: activations[layers.count - 1],
            rows: count,
            classes: network.classCount,
            labels: labels,
            indices: rows,
            delta: gradient == nil ? nil : deltas[layers.count - 1],
            scale: lossScale
        )
        guard let gradient else { return result }
        for l in stride(from: layers.count - 1, through: 0, by: -1) {
            let layer = layers[l]
            let source = l == 0 ? UnsafePointer(input) : UnsafePointer(activations[l - 1])
            accumulateOuterProducts(
                deltas[l],
                source,
                rows: count,
                outputs: layer.outputs,
                inputs: layer.inputs,
                weightGradient: gradient + layer.weightOffset,
                biasGradient: gradient + layer.biasOffset
            )
            if l > 0 {
                let previous = deltas[l - 1]
                multiply(
                    deltas[l],
                    rows: count,
                    inner: layer.outputs,
                    parameters + layer.weightOffset,
                    columns: layer.inputs,
                    into: previous
                )
                let a = activations[l - 1]
                for i in 0..<(count * layer.inputs) where a[i] <= 0 { previous[i] = 0 }
            }
        }
        return result
    }
}

// The products below all go through one register-blocked kernel, `multiplyAccumulate`, whose inner loop
// runs along contiguous rows of its right operand with explicit 8-lane vectors; the weights of these
// models (kilobytes) stay in L1, so no cache blocking beyond one output strip is needed.

/// `destination[columns × rows] = sourceᵀ` for a row-major `source[rows × columns]`.
private func transpose(
    _ source: UnsafePointer<Float>,
    rows: Int,
    columns: Int,
    into destination: UnsafeMutablePointer<Float>
) {
    for i in 0..<rows {
        let row = source + i &* columns
        var out = destination + i
        for j in 0..<columns {
            out.pointee = row[j]
            out += rows
        }
    }
}

/// `c[rows × columns] = a[rows × inner] · b[inner × columns] + bias` (bias added to every row).
private func multiplyAddBias(
    _ a: UnsafePointer<Float>,
    rows: Int,
    inner: Int,
    _ b: UnsafePointer<Float>,
    columns: Int,
    bias: UnsafePointer<Float>,
    into c: UnsafeMutablePointer<Float>
) {
    for i in 0..<rows { (c + i * columns).update(from: bias, count: columns) }
    multiplyAccumulate(a, rows: rows, inner: inner, rowStride: inner, innerStride: 1, b, columns: columns, into: c)
}

/// `c[rows × columns] = a[rows × inner] · b[inner × columns]`.
private func multiply(
    _ a: UnsafePointer<Float>,
    rows: Int,
    inner: Int,
    _ b: UnsafePointer<Float>,
    columns: Int,
    into c: UnsafeMutablePointer<Float>
) {
    c.update(repeating: 0, count: rows * columns)
    multiplyAccumulate(a, rows: rows, inner: inner, rowStride: inner, innerStride: 1, b, columns: columns, into: c)
}

/// `weightGradient[outputs × inputs] += deltaᵀ · source` and `biasGradient += column sums of delta`.
private func accumulateOuterProducts(
    _ delta: UnsafePointer<Float>,
    _ source: UnsafePointer<Float>,
    rows: Int,
    outputs: Int,
    inputs: Int,
    weightGradient: UnsafeMutablePointer<Float>,
    biasGradient: UnsafeMutablePointer<Float>
) {
    for i in 0..<rows {
        for j in 0..<outputs { biasGradient[j] += delta[i * outputs + j] }
    }
    multiplyAccumulate(
        delta,
        rows: outputs,
        inner: rows,
        rowStride: 1,
        innerStride: outputs,
        source,
        columns: inputs,
        into: weightGradient
    )
}

/// `c[i, j] += Σₚ a[i·rowStride + p·innerStride] · b[p·columns + j]`, summing over `p` in ascending order.
///
/// Release builds run the register-blocked kernel; debug builds (the tests) run the plain reference loop,
/// because unspecialised SIMD code is very slow without optimisation. Both give bit-identical results,
/// which a test checks over many shapes.
func multiplyAccumulate(
    _ a: UnsafePointer<Float>,
    rows: Int,
    inner: Int,
    rowStride: Int,
    innerStride: Int,
    _ b: UnsafePointer<Float>,
    columns: Int,
    into c: UnsafeMutablePointer<Float>
) {
    #if DEBUG
    multiplyAccumulateReference(
        a,
        rows: rows,
        inner: inner,
        rowStride: rowStride,
        innerStride: innerStride,
        b,
        columns: columns,
        into: c
    )
    #else
    multiplyAccumulateBlocked(
        a,
        rows: rows,
        inner: inner,
        rowStride: rowStride,
        innerStride: innerStride,
        b,
        columns: columns,
        into: c
    )
    #endif
}

/// ``multiplyAccumulate(_:rows:inner:rowStride:innerStride:_:columns:into:)`` as the plain triple loop.
func multiplyAccumulateReference(
    _ a: UnsafePointer<Float>,
    rows: Int,
    inner: Int,
    rowStride: Int,
    innerStride: Int,
    _ b: UnsafePointer<Float>,
    columns: Int,
    into c: UnsafeMutablePointer<Float>
) {
    for i in 0..<rows {
        for j in 0..<columns {
            var sum = c[i * columns + j]
            for p in 0..<inner { sum = sum + a[i * rowStride + p * innerStride] * b[p * columns + j] }
            c[i * columns + j] = sum
        }
    }
}

/// ``multiplyAccumulate(_:rows:inner:rowStride:innerStride:_:columns:into:)``, register-blocked: a strip of up to 32 columns of one row of `c` stays in four 8-lane accumulators while
/// `p` runs, so each step loads one strip of `b` and nothing else, and walks its operands by pointer
/// increments. Every element sees the same additions in the same order as the plain triple loop, with no
/// fused multiply-add, so results do not depend on the blocking or the vector width. There is no
/// skipping of zero multipliers: with ReLU outputs the branch mispredicts and costs more than it saves.
func multiplyAccumulateBlocked(
    _ a: UnsafePointer<Float>,
    rows: Int,
    inner: Int,
    rowStride: Int,
    innerStride: Int,
    _ b: UnsafePointer<Float>,
    columns: Int,
    into c: UnsafeMutablePointer<Float>
) {
    typealias Lanes = SIMD8<Float>
    for i in 0..<rows {
        let aRow = a + i &* rowStride
        let cRow = c + i &* columns
        var j = 0
        while j &+ 32 <= columns {
            let out = UnsafeMutableRawPointer(cRow + j)
            var c0 = out.loadUnaligned(as: Lanes.self)
            var c1 = out.loadUnaligned(fromByteOffset: 32, as: Lanes.self)
            var c2 = out.loadUnaligned(fromByteOffset: 64, as: Lanes.self)
            var c3 = out.loadUnaligned(fromByteOffset: 96, as: Lanes.self)
            var x = aRow
            var strip = UnsafeRawPointer(b + j)
            for _ in 0..<inner {
                let scale = Lanes(repeating: x.pointee)
                c0 = c0 + scale * strip.loadUnaligned(as: Lanes.self)
                c1 = c1 + scale * strip.loadUnaligned(fromByteOffset: 32, as: Lanes.self)
                c2 = c2 + scale * strip.loadUnaligned(fromByteOffset: 64, as: Lanes.self)
                c3 = c3 + scale * strip.loadUnaligned(fromByteOffset: 96, as: Lanes.self)
                x += innerStride
                strip += columns &* 4
            }
            out.storeBytes(of: c0, as: Lanes.self)
            out.storeBytes(of: c1, toByteOffset: 32, as: Lanes.self)
            out.storeBytes(of: c2, toByteOffset: 64, as: Lanes.self)
            out.storeBytes(of: c3, toByteOffset: 96, as: Lanes.self)
            j &+= 32
        }
        while j &+ 8 <= columns {
            let out = UnsafeMutableRawPointer(cRow + j)
            var c0 = out.loadUnaligned(as: Lanes.self)
            var x = aRow
            var strip = UnsafeRawPointer(b + j)
            for _ in 0..<inner {
                c0 = c0 + Lanes(repeating: x.pointee) * strip.loadUnaligned(as: Lanes.self)
                x += innerStride
                strip += columns &* 4
            }
            out.storeBytes(of: c0, as: Lanes.self)
            j &+= 8
        }
        while j < columns {
            var sum = cRow[j]
            var x = aRow
            var y = b + j
            for _ in 0..<inner {
                sum = sum + x.pointee * y.pointee
                x += innerStride
                y += columns
            }
            cRow[j] = sum
            j &+= 1
        }
    }
}

/// Softmax cross-entropy of each row of `logits` against its label; with a `delta`, writes
/// `scale · (softmax − one-hot)` there.
private func softmaxCrossEntropy(
    logits: UnsafePointer<Float>,
    rows: Int,
    classes: Int,
    labels: UnsafePointer<Int32>,
    indices: UnsafePointer<Int>,
    delta: UnsafeMutablePointer<Float>?,
    scale: Float
) -> (lossSum: Double, correct: Int) {
    var lossSum = 0.0
    var correct = 0
    for i in 0..<rows {
        let z = logits + i * classes
        let label = Int(labels[indices[i]])
        var largest = z[0]
        var argmax = 0
        for j in 1..<classes where z[j] > largest {
            largest = z[j]
            argmax = j
        }
        if argmax == label { correct += 1 }
        var sum: Float = 0
        for j in 0..<classes { sum += exp(z[j] - largest) }
        lossSum += Double(log(sum) - (z[label] - largest))
        if let delta {
            let deltaRow = delta + i * classes
            let inverse = 1 / sum
            for j in 0..<classes { deltaRow[j] = exp(z[j] - largest) * inverse * scale }
            deltaRow[label] -= scale
        }
    }
    return (lossSum, correct)
}
