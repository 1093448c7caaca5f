# Module manifest of the reader's PowerShell commands (FciConnector.psm1). Windows PowerShell 5.1 and PowerShell 7.
@{
    RootModule        = 'FciConnector.psm1'
    ModuleVersion     = '1.0.0'
    GUID              = '5b0f3c9e-8d4a-4f6e-9a51-2c7d0e4b8f13'
    Author            = 'fci-connector'
    Description       = 'Sign in, open, unprotect and check files protected by fci-connector, with your own sign-in.'
    PowerShellVersion = '5.1'
    FunctionsToExport = @(
        'Connect-FciService',
        'Disconnect-FciService',
        'Open-FciFile',
        'Unprotect-FciFile',
        'Get-FciFileStatus',
        'Register-FciExplorerMenu',
        'Unregister-FciExplorerMenu'
    )
    CmdletsToExport   = @()
    VariablesToExport = @()
    AliasesToExport   = @()
}
