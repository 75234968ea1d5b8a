// The examples are kept exactly as a reader of the package READMEs would type them.
#pragma warning disable xUnit1051
using Backprop.Data;
using Backprop.IO;
using Backprop.Nn;
using Backprop.Plotting;
using Backprop.Training;

namespace Backprop.Tests;

/// <summary>
/// The package READMEs' examples (src/Backprop/README.md, src/Backprop.Plotting/README.md), line for line, run. They use
/// relative paths, as a reader would, so the test changes the process's current folder: it runs alone.
/// </summary>
[Collection(ProcessWideSwitches.Name)]
public sealed class PackageReadmeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("backprop-package-readme-").FullName;
    private readonly string _home = Environment.CurrentDirectory;

    public PackageReadmeTests()
    {
        // The example reads "penguins.csv" from the current folder: the numeric columns of the penguins table.
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "v1", "penguins-numeric.csv"), Path.Combine(_dir, "penguins.csv"));
        Environment.CurrentDirectory = _dir;
    }

    public void Dispose()
    {
        Environment.CurrentDirectory = _home;
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void CoreExampleTrainsSavesLoadsAndPredictsByColumnName()
    {
        // --- src/Backprop/README.md starts ---
        // Any CSV or TSV with a header: columns by name, the label column named, the rest numeric features.
        var file = DataFiles.Read("penguins.csv", csv: new CsvOptions { LabelColumn = "Species" });
        var (train, test) = file.Data.Split(0.2, seed: 1);          // stratified, seeded

        var model = Model.For(train).WithSchema(file.Schema)         // the columns the model takes, by name and position
            .Preprocess(PreprocessingKind.Standardize)               // fitted on the training rows, kept in the model
            .Dense(64, Activation.Relu)
            .Build(seed: 1);
        model.Fit(train, new TrainingOptions { Epochs = 50, Optimizer = new Adam(0.001) });
        Console.WriteLine(model.Evaluate(test));                     // accuracy, per-class precision/recall/F1, confusion matrix

        model.Save("penguins.json");                                 // JSON, versioned, reads back bit for bit
        var loaded = ModelFile.Load("penguins.json");
        int species = loaded.PredictClass(new Dictionary<string, double>
        {
            ["Beak Length (mm)"] = 39.1, ["Beak Depth (mm)"] = 18.7, ["Flipper Length (mm)"] = 181, ["Body Mass (g)"] = 3750,
        });
        Console.WriteLine(loaded.ClassNames[species]);               // raw values in; the model applies its own pipeline
        // --- ends ---

        // The first penguin of the file, an Adelie; and the held-out rows are mostly right.
        Assert.Equal("Adelie", loaded.ClassNames[species]);
        Assert.True(Assert.IsType<ClassificationMetrics>(loaded.Evaluate(test)).Accuracy > 0.9);
        Assert.Equal(model.PredictAll(test), loaded.PredictAll(test));

        // --- src/Backprop.Plotting/README.md starts (with a two-input model for the regions) ---
        var data = SyntheticData.TwoMoons(100, 0.1, seed: 2);
        model = Model.For(data).Dense(8, Activation.Tanh).Build(seed: 2);
        model.Fit(data, new TrainingOptions { Epochs = 5 });
        TrainingPlot.SaveLossCurve("loss.png", model.History.Select(h => h.TrainingLoss).ToList());
        DecisionBoundaryPlot.Save("regions.png", model, data.Features, data.Labels.ToArray());
        // --- ends ---
        Assert.Equal((900, 560), (Plotting.Png.Read("loss.png").Width, Plotting.Png.Read("loss.png").Height));
        Assert.True(new FileInfo("regions.png").Length > 1000);
    }
}
