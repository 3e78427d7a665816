Console.Error.WriteLine("churn: the command line is being built; no commands yet.");
return 1;
