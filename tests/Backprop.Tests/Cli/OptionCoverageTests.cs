using System.Reflection;
using System.Text.RegularExpressions;
using Backprop.Tests.Cli.Process;

namespace Backprop.Tests.Cli;

/// <summary>
/// Every option in the options table of every command's --help is used by a child-process test that checks its exit
/// code, output and files (issue 20 item 1). The map below names that test; it is checked both ways: an option in a
/// help text with no entry fails, an entry whose option is in no help text fails, and an entry naming a test method
/// that does not exist fails. Add an option, and this fails until a test uses it and the map says which.
/// </summary>
public sealed partial class OptionCoverageTests
{
    private const string Demo = nameof(CommandProcessTests.Demo_RunsAtTheRootAndAsACommand_WithStepsAndLr);
    private const string Explain = nameof(CommandProcessTests.Explain_TheSeedWithEveryOption_WritesTheFileAndThePicture);
    private const string Csv = nameof(CommandProcessTests.Train_ACsvWithEveryDataOption);
    private const string Optimizers = nameof(CommandProcessTests.Train_WithEachOptimizerAndTheRegularisers);
    private const string Regression = nameof(CommandProcessTests.Train_ARegressionWithLossAndPreprocessing);
    private const string Idx = nameof(CommandProcessTests.Train_IdxFilesWithATestFileAndItsLabels);
    private const string Checkpoint = nameof(CommandProcessTests.Train_CheckpointsEveryNEpochsAndResumesToMoreEpochs_QuietPrintsOnlyTheSummary);
    private const string V1Data = nameof(CommandProcessTests.EvaluatePredictAndPlot_AVersion1ModelWithEveryDataOption);
    private const string Plot = nameof(CommandProcessTests.Plot_TheBoundaryOnADataFileAndOnABuiltInDataset);
    private const string CvCsv = nameof(CommandProcessTests.Cv_ACsvWithEveryDataAndTrainingOption_WritesItsFolds);
    private const string Table = nameof(CommandProcessTests.Train_AMessyTableWithEveryKindOption_PredictsNewRowsInAnotherOrder);
    private const string Inspect = nameof(CommandProcessTests.Inspect_ShowsTheKindsAndTakesEveryDataOption);
    private const string TuneCsv = nameof(CommandProcessTests.Tune_ACsvWithEveryOption_ScoresByCvMeasuresTheTestFileAndSavesTheBest);
    private const string ImpCsv = nameof(CommandProcessTests.Importance_ACsvWithEveryOption_TheTableTheJsonAndTheChart);
    private const string CvTable = nameof(CommandProcessTests.Cv_AMessyTableWithEveryKindOption_AndAJsonTable);
    private const string TuneTable = nameof(CommandProcessTests.Tune_AMessyTableWithEveryKindOption_SavesAModelThatPredictsRawRows);
    private const string Serve = nameof(CommandProcessTests.Serve_WithEveryOption_PredictsRefusesOverLimitsAndStopsOnSigterm);

    /// <summary>Command (as typed after `backprop`) -> option -> the test that uses it.</summary>
    private static readonly Dictionary<string, Dictionary<string, string>> Map = new()
    {
        [""] = new()
        {
            ["--steps"] = Demo, ["--lr"] = Demo,
            ["--help"] = nameof(CommandProcessTests.Help_ListsTheCommandsAndTheExitCodes_VersionPrintsIt),
            ["--version"] = nameof(CommandProcessTests.Help_ListsTheCommandsAndTheExitCodes_VersionPrintsIt),
        },
        ["demo"] = new() { ["--steps"] = Demo, ["--lr"] = Demo },
        ["explain"] = new()
        {
            ["--model"] = nameof(CommandProcessTests.Explain_AModelFileAsJson),
            ["--input"] = Explain, ["--target"] = Explain, ["--lr"] = Explain, ["--update-order"] = Explain, ["--steps"] = Explain,
            ["--format"] = Explain, ["--lang"] = Explain, ["--out"] = Explain, ["--svg"] = Explain, ["--svg-after"] = Explain,
        },
        ["export"] = new()
        {
            ["--model"] = nameof(CommandProcessTests.Export_WritesAnOnnxFileNamedInTheMessage),
            ["--onnx"] = nameof(CommandProcessTests.Export_WritesAnOnnxFileNamedInTheMessage),
        },
        ["train"] = new()
        {
            ["--data"] = Csv, ["--label-column"] = Csv, ["--drop-columns"] = Csv, ["--header"] = Csv, ["--delimiter"] = Csv, ["--task"] = Csv,
            ["--test-fraction"] = Csv,
            ["--labels"] = Idx, ["--test"] = Idx, ["--test-labels"] = Idx,
            ["--dataset"] = nameof(CommandProcessTests.Train_Xor_WithDefaultOptionsTrainsOnEveryRowAndSaysWhy),
            ["--preprocess"] = Regression, ["--loss"] = Regression, ["--json"] = Regression, ["--activation"] = Regression,
            ["--hidden"] = Optimizers, ["--optimizer"] = Optimizers, ["--lr"] = Optimizers, ["--schedule"] = Optimizers, ["--epochs"] = Optimizers,
            ["--batch"] = Optimizers, ["--seed"] = Optimizers, ["--l2"] = Optimizers, ["--clip-norm"] = Optimizers,
            ["--dropout"] = nameof(CommandProcessTests.Train_WithDropout_RecordsTheRatesInTheModelAndRefusesARateOutOfRange),
            ["--input-dropout"] = nameof(CommandProcessTests.Train_WithDropout_RecordsTheRatesInTheModelAndRefusesARateOutOfRange),
            ["--validation-fraction"] = nameof(CommandProcessTests.Train_EarlyStoppingReallyStops),
            ["--patience"] = nameof(CommandProcessTests.Train_EarlyStoppingReallyStops),
            ["--save"] = nameof(CommandProcessTests.Train_ThatDivergesPrintsItsReportSavesTheModelAndWritesNullForNonFiniteNumbers),
            ["--plot"] = nameof(CommandProcessTests.Train_PlotWritesThePng),
            ["--quiet"] = Checkpoint, ["--checkpoint"] = Checkpoint, ["--checkpoint-every"] = Checkpoint, ["--resume"] = Checkpoint,
            ["--categorical"] = Table, ["--numeric"] = Table, ["--date"] = Table, ["--text"] = Table, ["--ignore"] = Table, ["--missing"] = Table,
            ["--shards"] = nameof(MpiProcessTests.Mpirun_KProcessesWriteTheModelFileOfOneProcessWithTheSameShards),
            ["--stream"] = nameof(MpiProcessTests.Mpirun_StreamedParquetAndCsvTrainToTheBytesOfOneProcess_AndABadLineNamesTheRankFileAndByte),
        },
        ["inspect"] = new()
        {
            ["--data"] = Inspect, ["--label-column"] = Inspect, ["--drop-columns"] = Inspect, ["--header"] = Inspect, ["--delimiter"] = Inspect,
            ["--task"] = Inspect, ["--categorical"] = Inspect, ["--numeric"] = Inspect, ["--date"] = Inspect, ["--text"] = Inspect,
            ["--ignore"] = Inspect, ["--missing"] = Inspect,
        },
        ["cv"] = new()
        {
            ["--data"] = CvCsv, ["--delimiter"] = CvCsv, ["--header"] = CvCsv, ["--label-column"] = CvCsv, ["--drop-columns"] = CvCsv, ["--task"] = CvCsv,
            ["--folds"] = CvCsv, ["--folds-out"] = CvCsv, ["--preprocess"] = CvCsv, ["--hidden"] = CvCsv, ["--activation"] = CvCsv, ["--loss"] = CvCsv,
            ["--optimizer"] = CvCsv, ["--lr"] = CvCsv, ["--schedule"] = CvCsv, ["--epochs"] = CvCsv, ["--batch"] = CvCsv, ["--seed"] = CvCsv,
            ["--validation-fraction"] = CvCsv, ["--patience"] = CvCsv, ["--l2"] = CvCsv, ["--clip-norm"] = CvCsv, ["--json"] = CvCsv,
            ["--dropout"] = CvCsv, ["--input-dropout"] = CvCsv,
            ["--labels"] = nameof(CommandProcessTests.Cv_IdxFilesWithTheirLabels_AsText),
            ["--categorical"] = CvTable, ["--numeric"] = CvTable, ["--date"] = CvTable, ["--text"] = CvTable, ["--ignore"] = CvTable, ["--missing"] = CvTable,
        },
        ["tune"] = new()
        {
            ["--data"] = TuneCsv, ["--delimiter"] = TuneCsv, ["--header"] = TuneCsv, ["--label-column"] = TuneCsv, ["--drop-columns"] = TuneCsv,
            ["--task"] = TuneCsv, ["--test"] = TuneCsv, ["--trials"] = TuneCsv, ["--time"] = TuneCsv, ["--seed"] = TuneCsv, ["--folds"] = TuneCsv,
            ["--preprocess"] = TuneCsv, ["--save"] = TuneCsv, ["--json"] = TuneCsv, ["--validation-fraction"] = TuneCsv,
            ["--labels"] = nameof(CommandProcessTests.Tune_IdxFilesWithTheirLabels_AndSigtermKeepsAWholeBestModel),
            ["--test-labels"] = nameof(CommandProcessTests.Tune_IdxFilesWithTheirLabels_AndSigtermKeepsAWholeBestModel),
            ["--categorical"] = TuneTable, ["--numeric"] = TuneTable, ["--date"] = TuneTable, ["--text"] = TuneTable, ["--ignore"] = TuneTable, ["--missing"] = TuneTable,
        },
        ["importance"] = new()
        {
            ["--model"] = ImpCsv, ["--data"] = ImpCsv, ["--delimiter"] = ImpCsv, ["--header"] = ImpCsv, ["--label-column"] = ImpCsv,
            ["--drop-columns"] = ImpCsv, ["--task"] = ImpCsv, ["--split"] = ImpCsv, ["--repeats"] = ImpCsv, ["--seed"] = ImpCsv, ["--plot"] = ImpCsv,
            ["--json"] = ImpCsv, ["--labels"] = nameof(CommandProcessTests.Importance_AnIdxModelWithItsLabels),
        },
        ["evaluate"] = new()
        {
            ["--model"] = nameof(CommandProcessTests.Evaluate_TheTextReportOfAClassifier),
            ["--data"] = nameof(CommandProcessTests.Evaluate_TheTextReportOfAClassifier),
            ["--labels"] = nameof(CommandProcessTests.Evaluate_ARegressorAndAnIdxModelAsJson),
            ["--json"] = nameof(CommandProcessTests.Evaluate_ARegressorAndAnIdxModelAsJson),
            ["--split"] = nameof(CommandProcessTests.Evaluate_SplitTestIsTheHeldOutRowsOfTheTrainingFile),
            ["--label-column"] = V1Data, ["--drop-columns"] = V1Data, ["--header"] = V1Data, ["--delimiter"] = V1Data, ["--task"] = V1Data,
        },
        ["predict"] = new()
        {
            ["--model"] = nameof(CommandProcessTests.Predict_AClassifierARegressorAndAnIdxModel),
            ["--data"] = nameof(CommandProcessTests.Predict_AClassifierARegressorAndAnIdxModel),
            ["--labels"] = nameof(CommandProcessTests.Predict_AClassifierARegressorAndAnIdxModel),
            ["--output"] = nameof(CommandProcessTests.Predict_AClassifierARegressorAndAnIdxModel),
            ["--label-column"] = V1Data, ["--drop-columns"] = V1Data, ["--header"] = V1Data, ["--delimiter"] = V1Data, ["--task"] = V1Data,
        },
        ["plot"] = new(),
        ["plot boundary"] = new()
        {
            ["--model"] = Plot, ["--data"] = Plot, ["--dataset"] = Plot, ["--seed"] = Plot, ["--out"] = Plot, ["--resolution"] = Plot,
            ["--labels"] = nameof(CommandProcessTests.Plot_TheBoundaryOfAnIdxModelWithItsLabels),
            ["--label-column"] = V1Data, ["--drop-columns"] = V1Data, ["--header"] = V1Data, ["--delimiter"] = V1Data, ["--task"] = V1Data,
        },
        ["info"] = new()
        {
            ["--model"] = nameof(CommandProcessTests.Info_AsTextAndAsJson),
            ["--json"] = nameof(CommandProcessTests.Info_AsTextAndAsJson),
        },
        ["gradcheck"] = new()
        {
            ["--model"] = nameof(CommandProcessTests.Gradcheck_AModelWithToleranceAndEpsilon_PassesAndFails),
            ["--input"] = nameof(CommandProcessTests.Gradcheck_AModelWithToleranceAndEpsilon_PassesAndFails),
            ["--target"] = nameof(CommandProcessTests.Gradcheck_AModelWithToleranceAndEpsilon_PassesAndFails),
            ["--tolerance"] = nameof(CommandProcessTests.Gradcheck_AModelWithToleranceAndEpsilon_PassesAndFails),
            ["--epsilon"] = nameof(CommandProcessTests.Gradcheck_AModelWithToleranceAndEpsilon_PassesAndFails),
        },
        ["serve"] = new()
        {
            ["--model"] = Serve, ["--port"] = Serve, ["--host"] = Serve, ["--name"] = Serve, ["--no-watch"] = Serve,
            ["--max-batch"] = Serve, ["--batch-delay"] = Serve, ["--compute-lanes"] = Serve, ["--max-records"] = Serve,
            ["--max-body-bytes"] = Serve,
        },
        ["playground"] = new()
        {
            ["--port"] = nameof(CommandProcessTests.Playground_StartsOnAFreePortAnswersAGetAndStopsOnSigtermWith143),
            ["--open"] = nameof(CommandProcessTests.Playground_StartsOnAFreePortAnswersAGetAndStopsOnSigtermWith143),
        },
    };

    /// <summary>Options every command has; each has its own test.</summary>
    private static readonly Dictionary<string, string> Everywhere = new()
    {
        ["--help"] = nameof(CommandProcessTests.Help_ListsTheCommandsAndTheExitCodes_VersionPrintsIt),
        ["--verbose"] = nameof(CommandProcessTests.Verbose_AddsTheStackTraceToAnInternalError_WhichExitsWith4),
    };

    [GeneratedRegex(@"(?<![\w-])--[a-z][a-z0-9-]*")]
    private static partial Regex OptionName();

    /// <summary>The `--name`s in the "Options:" table of a help text (first column only, aliases like -h left out).</summary>
    internal static List<string> OptionsIn(string help)
    {
        var names = new List<string>();
        bool inTable = false;
        foreach (string line in help.Split('\n'))
        {
            if (line.TrimEnd() == "Options:")
            {
                inTable = true;
                continue;
            }
            if (inTable && !line.StartsWith("  ", StringComparison.Ordinal))
            {
                inTable = false;
                continue;
            }
            if (!inTable || !line.TrimStart().StartsWith('-'))
                continue;
            string first = Regex.Split(line.Trim(), @"\s{2,}")[0];
            names.AddRange(OptionName().Matches(first).Select(m => m.Value));
        }
        return names;
    }

    [Fact]
    public void EveryOptionOfEveryHelpTextHasATestAndEveryEntryIsAnOptionWithARealTest()
    {
        var tests = typeof(CommandProcessTests).GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Concat(typeof(MpiProcessTests).GetMethods(BindingFlags.Public | BindingFlags.Instance))
            .Where(m => m.GetCustomAttributes().Any(a => a is FactAttribute)).Select(m => m.Name).ToHashSet();
        var problems = new List<string>();
        foreach (var (command, entries) in Map)
        {
            string[] args = [.. command.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"];
            var (code, help, _) = CliTests.Run(args);
            Assert.Equal(0, code);
            var options = OptionsIn(help);
            Assert.NotEmpty(options);
            foreach (string option in options)
                if (!entries.ContainsKey(option) && !Everywhere.ContainsKey(option))
                    problems.Add($"backprop {command} {option}: in --help, no test in the map");
            foreach (string option in entries.Keys)
                if (!options.Contains(option))
                    problems.Add($"backprop {command} {option}: in the map, not in --help");
            foreach (var (option, test) in entries.Concat(Everywhere))
                if (!tests.Contains(test))
                    problems.Add($"backprop {command} {option}: the map names {test}, which is not a test of {nameof(CommandProcessTests)}");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void EveryCommandIsInTheMap()
    {
        var (_, help, _) = CliTests.Run("--help");
        int start = help.IndexOf("Commands:", StringComparison.Ordinal);
        var commands = help[start..].Split('\n').Skip(1).Where(l => l.StartsWith("  ", StringComparison.Ordinal))
            .Select(l => l.Trim().Split(' ')[0]).ToList();
        Assert.NotEmpty(commands);
        foreach (string command in commands)
            Assert.True(Map.ContainsKey(command), $"backprop {command} has no entry in the option map");
    }

    [Fact]
    public void TheHelpTableReaderFindsOptionsAndSkipsAliasesAndDescriptions()
    {
        const string help = "Options:\n  --data <FILE>   The data, see --labels.\n  -?, -h, --help  Show help\n\nCommands:\n  boundary  Draw --x\n";
        Assert.Equal(["--data", "--help"], OptionsIn(help));
    }
}
