using Backprop.Nn;

namespace Backprop.Explain.Rendering;

/// <summary>The language of a rendered trace.</summary>
public enum ExplainLanguage
{
    /// <summary>English (the default).</summary>
    English,
    /// <summary>Chinese, in the terms of the seed document (正向传播, 反向传播, 隐藏层, 输出层, 链式法则, ...).</summary>
    Chinese,
}

/// <summary>
/// Every sentence a rendered trace prints, in one language. Renderers take their prose from here and
/// nowhere else, so the English and Chinese traces show the same things in the same order.
/// </summary>
internal sealed class ExplainText
{
    public static ExplainText For(ExplainLanguage language) => language == ExplainLanguage.Chinese ? Chinese : English;

    public required string TitleSeed { get; init; }
    public required string PreprocessingHeading { get; init; }
    public required Func<string, string> PreprocessingIntro { get; init; }
    public required IReadOnlyList<string> PreprocessingColumns { get; init; }
    public required string TitleModel { get; init; }
    public required string NetworkSeed { get; init; }
    public required Func<int, string> NetworkInputs { get; init; }
    public required Func<int, int, string, string, bool, string> LayerLine { get; init; }
    public required Func<string, string> LossLine { get; init; }
    public required Func<string, string, string, string> SampleLine { get; init; }
    public required string OrderSimultaneous { get; init; }
    public required string OrderSequential { get; init; }
    public required string EngineNote { get; init; }
    public required string EngineNoteModel { get; init; }
    public required string ParametersBefore { get; init; }
    public required Func<SeedSection, string> SeedHeading { get; init; }
    public required Func<SeedSection, string> SeedIntro { get; init; }
    public required string SequentialNote { get; init; }
    public required string AsWritten { get; init; }
    public required string Corrected { get; init; }
    public required string Added { get; init; }
    public required string Slip { get; init; }
    public required Func<string, string> ErratumTitle { get; init; }
    public required Func<string, string> ErratumText { get; init; }
    public required string ProofDocument { get; init; }
    public required string ProofCorrect { get; init; }
    public required string ProofFiniteDifference { get; init; }
    public required string ErrataHeading { get; init; }
    public required string ErrataIntro { get; init; }
    public required string Equation { get; init; }
    public required string TableHeading { get; init; }
    public required string TableIntro { get; init; }
    public required string TableIntroSequential { get; init; }
    public required string ColumnParameter { get; init; }
    public required string ColumnValue { get; init; }
    public required string ColumnGradient { get; init; }
    public required string ColumnFiniteDifference { get; init; }
    public required string ColumnUpdated { get; init; }
    public required string Frozen { get; init; }
    public required string ComparisonHeading { get; init; }
    public required string ComparisonIntro { get; init; }
    public required string ColumnSimultaneous { get; init; }
    public required string ColumnSequential { get; init; }
    public required string ColumnGradientShort { get; init; }
    public required string ColumnDifference { get; init; }
    public required Func<string, string, string> ComparisonLosses { get; init; }
    public required Func<string, string> ComparisonMax { get; init; }
    public required string HistoryHeading { get; init; }
    public required Func<int, string> HistoryIntro { get; init; }
    public required string ColumnStep { get; init; }
    public required string ColumnLoss { get; init; }
    public required string FinalHeading { get; init; }
    public required string ColumnOutput { get; init; }
    public required string ColumnTarget { get; init; }
    public required Func<int, string> LayerHeading { get; init; }
    public required string ForwardHeading { get; init; }
    public required string BackwardHeading { get; init; }
    public required string GenericIntro { get; init; }
    public required Func<int, int, string> LargeNote { get; init; }
    public required string SummaryHeading { get; init; }
    public required string ColumnLayer { get; init; }
    public required string ColumnShape { get; init; }
    public required string ColumnActivation { get; init; }
    public required string ColumnRange { get; init; }
    public required string ColumnNorm { get; init; }
    public required string LayerGradients { get; init; }
    public required string Regenerate { get; init; }

    private static string Bias(BiasMode b) => Names.Of(b);

    /// <summary>English.</summary>
    public static ExplainText English { get; } = new()
    {
        TitleSeed = "backprop explain: the seed network, one forward pass, one backward pass, one update",
        PreprocessingHeading = "Step 0: preprocessing (what predict applies to a raw row first)",
        PreprocessingIntro = kind => $"The model's {kind} preprocessing, fitted on its training rows, maps each raw value x to x' = (x - offset) / scale; x' is the network's input below.",
        PreprocessingColumns = ["column", "x (raw)", "offset", "scale", "x' = (x - offset) / scale"],
        TitleModel = "backprop explain: one forward pass, one backward pass, one update",
        NetworkSeed = "Network: input layer X1, X2 -> hidden layer of 3 sigmoid neurons (inputs H1..H3, outputs P1..P3) -> output layer of 2 sigmoid neurons (inputs Q1, Q2, outputs O1, O2); one bias b1 shared by the hidden neurons, one bias b2 shared by the outputs. Vij: weight from input i to hidden neuron j; Wij: from hidden neuron i to output j.",
        NetworkInputs = n => $"Network: {n} input(s)",
        LayerLine = (l, units, act, bias, trainable) => $"  layer {l}: {units} unit(s), {act}, bias {bias}{(trainable ? "" : " (frozen)")}",
        LossLine = loss => $"Loss: {loss}",
        SampleLine = (x, y, lr) => $"Sample: input {x}; target {y}; learning rate η = {lr}.",
        OrderSimultaneous = "Update order: simultaneous. Every gradient is computed from the weights of the forward pass, then every parameter is updated: real backpropagation.",
        OrderSequential = "Update order: sequential, the document's own order. The output layer is updated first (eq. 15), and the error is propagated back through the already-updated weights (eq. 35 uses the new W11). This is not real backpropagation; the comparison at the end shows by how much the step differs.",
        EngineNote = "Every H, P, Q, O, E, error term, gradient and updated value below is read from the engine after it ran; the factors in between are the equation's right-hand side evaluated at those values.",
        EngineNoteModel = "Every z, a, E, δ, gradient and updated value below is read from the engine after it ran.",
        ParametersBefore = "Parameters before the update",
        SeedHeading = s => s switch
        {
            SeedSection.Definitions => "Definitions (1)-(3)",
            SeedSection.ForwardHidden => "Forward propagation: hidden layer (4)-(5)",
            SeedSection.ForwardOutput => "Forward propagation: output layer (6)-(9)",
            SeedSection.Loss => "Backward propagation: the total error (10)",
            SeedSection.ChainW11 => "Backward propagation: W11 by the chain rule (11)-(15)",
            SeedSection.ChainV11 => "Backward propagation: V11 by the chain rule (16)-(35)",
            _ => "Every parameter: error terms, gradients and biases (A1)-(A7), not in the document",
        },
        SeedIntro = s => s switch
        {
            SeedSection.Definitions => "The loss (1), the sigmoid activation (2) and its derivative (3). With N = 2 outputs, (1) is (10).",
            SeedSection.ForwardHidden => "Each hidden neuron j = 1, 2, 3 takes (4) and (5); the document writes them for j = 1.",
            SeedSection.ForwardOutput => "Both output neurons share the bias b2.",
            SeedSection.Loss => "The loss of this sample before the update.",
            SeedSection.ChainW11 => "dE_total/dW11 is the product of three factors, (12)-(14); (15) is the gradient-descent update.",
            SeedSection.ChainV11 => "V11 reaches the loss through P1, and P1 reaches it through both outputs: the two paths add, (17).",
            _ => "The document derives only W11 and V11. The same chain rule, with the error terms δ = dE_total/d(neuron input), gives every gradient, including the two shared biases.",
        },
        SequentialNote = "Sequential order: W11 and W12 below are the values already updated by (15), as the document's order implies. The slips flagged below are proved at the forward pass's weights (real backpropagation), so their numbers differ from this chain's.",
        AsWritten = "as the document writes it",
        Corrected = "corrected",
        Added = "added",
        Slip = "Slip",
        ErratumTitle = id => id switch
        {
            "missing-half" => "(18)/(19) lack the factor 1/2",
            "eq28-denominator" => "(28) has P1 where dP1 is meant",
            "eq35-product" => "(35) multiplies the two terms that (17) adds",
            "update-order" => "the document updates W11 before it uses W11 for V11",
            "bias-b2" => "the gradient of the shared bias b2 is not derived",
            _ => "the gradient of the shared bias b1 is not derived",
        },
        ErratumText = id => id switch
        {
            "missing-half" => "With E_total = 1/2 ((Y1 - O1)^2 + (Y2 - O2)^2) from (10), E1 = 1/2 (Y1 - O1)^2 and E2 = 1/2 (Y2 - O2)^2. Only then is (21) dE1/dO1 = -(Y1 - O1) right; differentiating (18) as written would give -2 (Y1 - O1).",
            "eq28-denominator" => "A typographical slip: the derivative is taken with respect to P1, so the denominator is dP1. The value W12 is right.",
            "eq35-product" => "Substituting (24), (29) and (33) into (17) gives a SUM of the two paths times dP1/dV11. The document's product is a different number, here even of a different sign; the sum agrees with the finite difference.",
            "update-order" => "In backpropagation every gradient uses the weights of the forward pass; all parameters are updated afterwards. Taking dE_total/dV11 through the updated W11 and W12 (the document's order) gives a different, wrong value.",
            "bias-b2" => "b2 feeds both output neurons (6), (7), so dE_total/db2 = δO1 + δO2: it collects both outputs' error terms. A program must update it too.",
            _ => "b1 feeds all three hidden neurons (4), so dE_total/db1 = δH1 + δH2 + δH3.",
        },
        ProofDocument = "document",
        ProofCorrect = "correct (engine)",
        ProofFiniteDifference = "finite difference",
        ErrataHeading = "The document's slips, proved",
        ErrataIntro = "Each slip with the document's value, the correct value (the engine's) and a central finite difference (E(p + 1e-6) - E(p - 1e-6)) / 2e-6.",
        Equation = "eq.",
        TableHeading = "Every parameter: gradient and update",
        TableIntro = "Gradient from the engine's backward pass, checked against a central finite difference; updated value p - η dE_total/dp.",
        TableIntroSequential = "Sequential order: the gradients of the hidden layer (V, b1) are the ones taken through the updated W, so they differ from the finite differences, which measure the true gradient at the starting point.",
        ColumnParameter = "parameter",
        ColumnValue = "value",
        ColumnGradient = "dE_total/dp",
        ColumnFiniteDifference = "finite difference",
        ColumnUpdated = "updated",
        Frozen = "(frozen)",
        ComparisonHeading = "Sequential (the document's order) against simultaneous (real backpropagation)",
        ComparisonIntro = "The same start, one step each. The output layer's step is the same; the layers below differ because their error came back through already-updated weights.",
        ColumnSimultaneous = "simultaneous",
        ColumnSequential = "sequential",
        ColumnGradientShort = "gradient",
        ColumnDifference = "difference",
        ComparisonLosses = (sim, seq) => $"E_total after one step: simultaneous {sim}, sequential {seq}.",
        ComparisonMax = d => $"Largest difference in a parameter after one step: {d}.",
        HistoryHeading = "Total error over the updates",
        HistoryIntro = n => $"{n} update(s) of the same sample; step 0 is before the first update.",
        ColumnStep = "step",
        ColumnLoss = "E_total",
        FinalHeading = "Outputs after the last update",
        ColumnOutput = "output",
        ColumnTarget = "target",
        LayerHeading = l => $"Layer {l}",
        ForwardHeading = "Forward propagation",
        BackwardHeading = "Backward propagation",
        GenericIntro = "Names: x[i] input i; z1[j] the input of unit j of layer 1 and a1[j] = f(z1[j]) its output; w1[j,i] the weight of unit j from input i; b1[j] (or b1, shared) the bias; δ1[j] = dE/dz1[j] its error term. dE/dw1[j,i] = δ1[j] * (input i); dE/db1[j] = δ1[j] (shared: the sum over the layer).",
        LargeNote = (p, limit) => $"This network has {p} parameters: too many to print every unit. Shown: a summary per layer (per-unit equations appear when every layer has at most {limit} units and inputs). Every number is in --format json.",
        SummaryHeading = "Summary per layer",
        ColumnLayer = "layer",
        ColumnShape = "shape",
        ColumnActivation = "activation",
        ColumnRange = "min .. max",
        ColumnNorm = "norm",
        LayerGradients = "Gradients and updates",
        Regenerate = "Generated by `backprop explain --format markdown`; regenerate with `dotnet run --project src/Backprop.Cli -- explain --format markdown --out docs/derivation.md`.",
    };

    /// <summary>Chinese, in the seed document's own terms.</summary>
    public static ExplainText Chinese { get; } = new()
    {
        TitleSeed = "backprop explain：种子网络的一次正向传播、一次反向传播和一次权重更新",
        PreprocessingHeading = "第 0 步：预处理（predict 对原始数据做的第一步）",
        PreprocessingIntro = kind => $"模型的 {kind} 预处理（在训练数据上拟合）把每个原始值 x 变为 x' = (x - offset) / scale；下面网络的输入就是 x'。",
        PreprocessingColumns = ["列", "x（原始值）", "offset", "scale", "x' = (x - offset) / scale"],
        TitleModel = "backprop explain：一次正向传播、一次反向传播和一次权重更新",
        NetworkSeed = "网络：输入层 X1, X2 -> 隐藏层 3 个 sigmoid 神经元（输入 H1..H3，输出 P1..P3）-> 输出层 2 个 sigmoid 神经元（输入 Q1, Q2，输出 O1, O2）；隐藏层神经元共用一个偏置 b1，输出层神经元共用一个偏置 b2。Vij 表示输入层第 i 个节点对隐藏层第 j 个节点的连接权重，Wij 表示隐藏层第 i 个节点对输出层第 j 个节点的连接权重。",
        NetworkInputs = n => $"网络：{n} 个输入",
        LayerLine = (l, units, act, bias, trainable) => $"  第 {l} 层：{units} 个神经元，激活函数 {act}，偏置 {bias}{(trainable ? "" : "（冻结）")}",
        LossLine = loss => $"损失函数：{loss}",
        SampleLine = (x, y, lr) => $"样本：输入 {x}；真实标签 {y}；学习率 η = {lr}。",
        OrderSimultaneous = "更新顺序：同时更新（simultaneous）。所有梯度都用正向传播时的权重求出，然后再统一更新所有参数：这才是真正的反向传播。",
        OrderSequential = "更新顺序：依次更新（sequential），即原文的顺序。先更新输出层（公式 15），再经过已经更新过的权重把误差传回去（公式 35 用的是新的 W11）。这不是真正的反向传播；最后的对比表给出两种顺序一步之后相差多少。",
        EngineNote = "下面所有的 H、P、Q、O、E、误差项、梯度和更新后的数值都直接读取自计算引擎；中间各个因子是把这些数值代入公式右边求得的。",
        EngineNoteModel = "下面所有的 z、a、E、δ、梯度和更新后的数值都直接读取自计算引擎。",
        ParametersBefore = "更新前的参数",
        SeedHeading = s => s switch
        {
            SeedSection.Definitions => "定义（1）-（3）",
            SeedSection.ForwardHidden => "正向传播：隐藏层（4）-（5）",
            SeedSection.ForwardOutput => "正向传播：输出层（6）-（9）",
            SeedSection.Loss => "反向传播：总误差（10）",
            SeedSection.ChainW11 => "反向传播：由链式法则求 W11（11）-（15）",
            SeedSection.ChainV11 => "反向传播：由链式法则求 V11（16）-（35）",
            _ => "所有参数：误差项、梯度和偏置（A1）-（A7），原文没有推导",
        },
        SeedIntro = s => s switch
        {
            SeedSection.Definitions => "损失函数（1）、sigmoid 激活函数（2）及其导数（3）。输出个数 N = 2 时，（1）就是（10）。",
            SeedSection.ForwardHidden => "隐藏层每个神经元 j = 1, 2, 3 都按（4）和（5）计算；原文只写了 j = 1。",
            SeedSection.ForwardOutput => "输出层两个神经元共用偏置 b2。",
            SeedSection.Loss => "这个样本在更新前的总误差。",
            SeedSection.ChainW11 => "由链式法则，dE_total/dW11 是（12）-（14）三个因子的乘积；（15）是梯度下降的更新。",
            SeedSection.ChainV11 => "V11 通过 P1 影响误差，而 P1 通过两个输出影响误差：两条路径相加，见（17）。",
            _ => "原文只以 W11 和 V11 为例。同样的链式法则，借助误差项 δ = dE_total/d(神经元输入)，可以求出所有梯度，包括两个共用偏置。",
        },
        SequentialNote = "依次更新：下面的 W11 和 W12 是已经由（15）更新过的数值，这正是原文的顺序。下面标出的勘误都在正向传播时的权重处（真正的反向传播）证明，所以其数值与这条链上的数值不同。",
        AsWritten = "原文",
        Corrected = "更正",
        Added = "补充",
        Slip = "勘误",
        ErratumTitle = id => id switch
        {
            "missing-half" => "（18）/（19）缺少系数 1/2",
            "eq28-denominator" => "（28）的分母应为 ∂P1 而不是 P1",
            "eq35-product" => "（35）把（17）中应当相加的两项相乘了",
            "update-order" => "原文先更新 W11，再用更新后的 W11 求 V11 的梯度",
            "bias-b2" => "原文没有推导共用偏置 b2 的梯度",
            _ => "原文没有推导共用偏置 b1 的梯度",
        },
        ErratumText = id => id switch
        {
            "missing-half" => "由（10）E_total = 1/2 ((Y1 - O1)^2 + (Y2 - O2)^2)，应有 E1 = 1/2 (Y1 - O1)^2，E2 = 1/2 (Y2 - O2)^2。这样（21）dE1/dO1 = -(Y1 - O1) 才成立；按原文（18）求导会得到 -2 (Y1 - O1)。",
            "eq28-denominator" => "排版错误：这里是对 P1 求偏导，分母应为 ∂P1。结果 W12 是对的。",
            "eq35-product" => "把（24）、（29）和（33）代入（17），得到的是两条路径之和再乘以 dP1/dV11。原文的乘积是另一个数，这里连符号都不同；求和的结果与有限差分一致。",
            "update-order" => "反向传播中所有梯度都用正向传播时的权重计算，全部求出后再统一更新。用更新后的 W11、W12 求 dE_total/dV11（原文的顺序）会得到不同的、错误的数值。",
            "bias-b2" => "b2 同时进入两个输出神经元（6）、（7），所以 dE_total/db2 = δO1 + δO2，要把两个输出的误差项加起来。程序也必须更新它。",
            _ => "b1 进入隐藏层全部三个神经元（4），所以 dE_total/db1 = δH1 + δH2 + δH3。",
        },
        ProofDocument = "原文",
        ProofCorrect = "正确值（引擎）",
        ProofFiniteDifference = "有限差分",
        ErrataHeading = "原文勘误及其证明",
        ErrataIntro = "每处错误都给出原文的数值、正确的数值（引擎计算）和中心有限差分 (E(p + 1e-6) - E(p - 1e-6)) / 2e-6。",
        Equation = "公式",
        TableHeading = "所有参数的梯度和更新",
        TableIntro = "梯度来自引擎的反向传播，并用中心有限差分校验；更新后的值为 p - η dE_total/dp。",
        TableIntroSequential = "依次更新：隐藏层的梯度（V、b1）是经过更新后的 W 求得的，所以与有限差分不同；有限差分给出的是起点处真正的梯度。",
        ColumnParameter = "参数",
        ColumnValue = "数值",
        ColumnGradient = "dE_total/dp",
        ColumnFiniteDifference = "有限差分",
        ColumnUpdated = "更新后",
        Frozen = "（冻结）",
        ComparisonHeading = "依次更新（原文顺序）与同时更新（真正的反向传播）对比",
        ComparisonIntro = "从同一起点各走一步。输出层的一步相同；下面各层不同，因为它们的误差是经过已经更新的权重传回来的。",
        ColumnSimultaneous = "同时更新",
        ColumnSequential = "依次更新",
        ColumnGradientShort = "梯度",
        ColumnDifference = "差值",
        ComparisonLosses = (sim, seq) => $"一步之后的 E_total：同时更新 {sim}，依次更新 {seq}。",
        ComparisonMax = d => $"一步之后参数的最大差值：{d}。",
        HistoryHeading = "各次更新后的总误差",
        HistoryIntro = n => $"对同一个样本更新 {n} 次；第 0 步为第一次更新之前。",
        ColumnStep = "步",
        ColumnLoss = "E_total",
        FinalHeading = "最后一次更新后的输出",
        ColumnOutput = "输出",
        ColumnTarget = "真实标签",
        LayerHeading = l => $"第 {l} 层",
        ForwardHeading = "正向传播",
        BackwardHeading = "反向传播",
        GenericIntro = "记号：x[i] 为第 i 个输入；z1[j] 为第 1 层第 j 个神经元的输入，a1[j] = f(z1[j]) 为其输出；w1[j,i] 为第 j 个神经元来自输入 i 的权重；b1[j]（共用时为 b1）为偏置；δ1[j] = dE/dz1[j] 为误差项。dE/dw1[j,i] = δ1[j] * (输入 i)；dE/db1[j] = δ1[j]（共用偏置为整层之和）。",
        LargeNote = (p, limit) => $"该网络有 {p} 个参数，无法逐个神经元列出。下面给出每层的摘要（每层神经元数和输入数都不超过 {limit} 时才逐个列出公式）。全部数值见 --format json。",
        SummaryHeading = "每层摘要",
        ColumnLayer = "层",
        ColumnShape = "形状",
        ColumnActivation = "激活函数",
        ColumnRange = "最小 .. 最大",
        ColumnNorm = "范数",
        LayerGradients = "梯度和更新",
        Regenerate = "由 `backprop explain --format markdown --lang zh` 生成；重新生成：`dotnet run --project src/Backprop.Cli -- explain --format markdown --lang zh --out docs/derivation.zh.md`。",
    };
}
