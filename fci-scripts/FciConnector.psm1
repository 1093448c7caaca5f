<#
.SYNOPSIS
The reader's commands for PowerShell: sign in, open, unprotect and check protected files with your own sign-in.

.DESCRIPTION
Import-Module .\FciConnector.psm1 (or copy the folder holding FciConnector.psd1 into a folder of $env:PSModulePath)
gives:

  Connect-FciService        sign in to the OpenID provider of reader.toml (fci-connector login)
  Disconnect-FciService     forget the stored sign-in (fci-connector logout)
  Open-FciFile              decrypt a protected file through the licensing service (fci-connector open)
  Unprotect-FciFile         remove protection in place through the service, or with a key (fci-connector unprotect)
  Get-FciFileStatus         protection status of files, and with -CheckAccess your rights on each
                            (fci-connector status)
  Register-FciExplorerMenu  add "Open protected file" to Explorer's context menu, for the current user
  Unregister-FciExplorerMenu

Every command runs fci-connector.exe (found beside this module, in the folder above it, or on PATH; or set with
-FciConnector) and turns its JSON output into objects. A failure of fci-connector is a non-terminating error whose
FullyQualifiedErrorId names its exit code (FciConnector.Exit<N>, docs/EXIT-CODES.md), and $LASTEXITCODE keeps the code.

The sign-in parameters (-Server, -TokenFile, -TokenEnv, -ClientCertificate, -ClientKey, -CaFile, -ReaderConfig) are
fci-connector's options of the same names. Without any of them the stored sign-in of Connect-FciService is used.
Tokens and certificates are only ever sent to a service that reader.toml trusts (or that -Server names).

.EXAMPLE
Import-Module .\FciConnector.psm1; Connect-FciService -Device

Sign in from a server console: shows a web address and a code to enter on any device.

.EXAMPLE
Get-ChildItem D:\Shares\Finance -File | Get-FciFileStatus -CheckAccess | Where-Object Rights -contains 'EDIT'

The files of a folder that you may edit.

.EXAMPLE
Open-FciFile -Path 'D:\Shares\Finance\Q3 report.docx' -Launch

Opens the file in its application; an edit is protected again when you close it, if you may edit.
#>

# No Set-StrictMode: fci-connector's JSON leaves out empty fields, and strict mode would make reading one an error.

$script:Executable = ''

function Resolve-FciConnector {
    <# The fci-connector executable: the one given, else beside this module, the folder above it, or on PATH. #>
    param([string]$FciConnector)
    if ($FciConnector) {
        if (-not (Test-Path -LiteralPath $FciConnector -PathType Leaf)) {
            throw "fci-connector not found at '$FciConnector'."
        }
        return $FciConnector
    }
    if ($script:Executable) {
        return $script:Executable
    }
    $found = @(
        (Join-Path $PSScriptRoot 'fci-connector.exe'),
        (Join-Path (Split-Path -Parent $PSScriptRoot) 'fci-connector.exe')
    ) | Where-Object { Test-Path -LiteralPath $_ -PathType Leaf } | Select-Object -First 1
    if (-not $found) {
        $command = Get-Command -Name 'fci-connector' -CommandType Application -ErrorAction SilentlyContinue |
            Select-Object -First 1
        if ($command) {
            $found = $command.Source
        }
    }
    if (-not $found) {
        throw 'fci-connector.exe not found beside this module, in the folder above it or on PATH; give -FciConnector <path>.'
    }
    $script:Executable = $found
    return $found
}

function ConvertTo-NativeArgument {
    <# A path as Windows PowerShell's native argument passing delivers it intact: it wraps an argument holding a blank
       in double quotes without escaping a trailing backslash, so "D:\My Samples\" would arrive as D:\My Samples".
       The trailing backslash of a folder is dropped (not the one of a drive root, which holds no blank). #>
    param([string]$Path)
    if ($Path -match '\s' -and $Path.EndsWith('\') -and $Path.Length -gt 3) {
        return $Path.TrimEnd('\')
    }
    return $Path
}

function Get-SignInArgument {
    <# fci-connector's sign-in options from the common parameters of a command (its $PSBoundParameters). #>
    param([hashtable]$Bound)
    $options = [ordered]@{
        Server            = '--server'
        TokenFile         = '--token-file'
        TokenEnv          = '--token-env'
        ClientCertificate = '--client-cert'
        ClientKey         = '--client-key'
        CaFile            = '--ca-file'
        ReaderConfig      = '--reader-config'
    }
    $arguments = @()
    foreach ($name in $options.Keys) {
        if ($Bound.ContainsKey($name) -and $Bound[$name]) {
            $arguments += $options[$name]
            $arguments += (ConvertTo-NativeArgument ([string]$Bound[$name]))
        }
    }
    return , $arguments
}

function Invoke-FciConnector {
    <# Runs fci-connector with the arguments; returns its standard output lines and exit code, and its standard error
       text. Output is read as UTF-8 (what fci-connector writes; Windows PowerShell would use the OEM code page), and
       standard error is collected rather than turned into error records one line at a time. #>
    param(
        [string]$Executable,
        [string[]]$Arguments
    )
    $previousEncoding = [Console]::OutputEncoding
    $previousPreference = $ErrorActionPreference
    $stdout = New-Object System.Collections.Generic.List[string]
    $stderr = New-Object System.Collections.Generic.List[string]
    try {
        [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding($false)
        # Windows PowerShell wraps each native stderr line in an error record; under 'Stop' the first would end the
        # call before the exit code is known.
        $ErrorActionPreference = 'Continue'
        & $Executable @Arguments 2>&1 | ForEach-Object {
            if ($_ -is [System.Management.Automation.ErrorRecord]) {
                $stderr.Add($_.Exception.Message)
            }
            else {
                $stdout.Add([string]$_)
            }
        }
        $code = $LASTEXITCODE
    }
    finally {
        [Console]::OutputEncoding = $previousEncoding
        $ErrorActionPreference = $previousPreference
    }
    return [pscustomobject]@{
        ExitCode = $code
        Output   = $stdout.ToArray()
        Error    = ($stderr -join [Environment]::NewLine).Trim()
    }
}

function Write-FciError {
    <# A non-terminating error for a failed fci-connector call, its exit code in the error id. #>
    param(
        [System.Management.Automation.PSCmdlet]$Caller,
        [pscustomobject]$Result,
        [string]$Target
    )
    $message = $Result.Error
    if (-not $message) {
        $message = "fci-connector failed with exit code $($Result.ExitCode) (docs/EXIT-CODES.md)."
    }
    $record = New-Object System.Management.Automation.ErrorRecord(
        (New-Object System.Exception($message)),
        "FciConnector.Exit$($Result.ExitCode)",
        [System.Management.Automation.ErrorCategory]::NotSpecified,
        $Target
    )
    $Caller.WriteError($record)
}

function Connect-FciService {
    <#
    .SYNOPSIS
    Signs in to the OpenID provider named in reader.toml, for Open-FciFile, Unprotect-FciFile -Online and
    Get-FciFileStatus -CheckAccess.

    .DESCRIPTION
    Runs `fci-connector login`. -Device shows a web address and a code to enter there from any device (for a server
    console or a remote session); -Browser opens the sign-in page in the default browser, which returns to
    fci-connector on 127.0.0.1. Without either, fci-connector picks the browser on a desktop and the device flow
    elsewhere. The tokens are kept per user and refreshed when they expire. -Status shows the stored sign-in instead.

    .EXAMPLE
    Connect-FciService -Device
    #>
    [CmdletBinding(DefaultParameterSetName = 'Auto')]
    param(
        [Parameter(ParameterSetName = 'Device')]
        [switch]$Device,
        [Parameter(ParameterSetName = 'Browser')]
        [switch]$Browser,
        [Parameter(ParameterSetName = 'Status')]
        [switch]$Status,
        [string]$CaFile,
        [string]$ReaderConfig,
        [string]$FciConnector
    )
    $exe = Resolve-FciConnector $FciConnector
    $arguments = @('login')
    if ($Device) { $arguments += '--device' }
    if ($Browser) { $arguments += '--browser' }
    if ($Status) { $arguments += '--status' }
    if ($CaFile) { $arguments += @('--ca-file', (ConvertTo-NativeArgument $CaFile)) }
    if ($ReaderConfig) { $arguments += @('--reader-config', (ConvertTo-NativeArgument $ReaderConfig)) }
    # Not through Invoke-FciConnector: the device flow's address and code must reach the console as they come.
    & $exe @arguments
    if ($LASTEXITCODE -ne 0) {
        Write-FciError $PSCmdlet ([pscustomobject]@{ ExitCode = $LASTEXITCODE; Error = '' }) 'login'
    }
}

function Disconnect-FciService {
    <#
    .SYNOPSIS
    Forgets the stored sign-in of Connect-FciService.

    .DESCRIPTION
    Runs `fci-connector logout`: the stored tokens of the current user are deleted.

    .EXAMPLE
    Disconnect-FciService
    #>
    [CmdletBinding()]
    param([string]$FciConnector)
    $exe = Resolve-FciConnector $FciConnector
    $result = Invoke-FciConnector $exe @('logout')
    if ($result.ExitCode -ne 0) {
        Write-FciError $PSCmdlet $result 'logout'
    }
    $result.Output | Where-Object { $_ } | ForEach-Object { Write-Verbose $_ }
}

function Open-FciFile {
    <#
    .SYNOPSIS
    Opens a protected file through the licensing service with your own sign-in.

    .DESCRIPTION
    Runs `fci-connector open`. With -OutputPath the plaintext is written there (never over an existing file). With
    -Launch it is decrypted into a private folder of yours and opened in its application; when no program holds it
    open any more, an edit is protected again in place if your rights include EDIT, and the copy is wiped. Emits one
    object per file: Path, OutputPath, Opened and Message.

    A reader enforces who may decrypt, until when, and revocation; it cannot stop a user who may view a file from
    copying what they see.

    .PARAMETER Path
    Protected files. Accepts pipeline input, also from Get-ChildItem.

    .EXAMPLE
    Open-FciFile -Path '\\fs1\Finance\Q3 report.docx' -OutputPath "$env:TEMP\Q3 report.docx"

    .EXAMPLE
    Get-ChildItem D:\Shares\Finance\*.xlsx | Open-FciFile -Launch
    #>
    [CmdletBinding(DefaultParameterSetName = 'Launch')]
    param(
        [Parameter(Mandatory = $true, Position = 0, ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)]
        [Alias('FullName')]
        [string[]]$Path,
        [Parameter(Mandatory = $true, ParameterSetName = 'Output')]
        [string]$OutputPath,
        [Parameter(ParameterSetName = 'Launch')]
        [switch]$Launch,
        [string]$Server,
        [string]$TokenFile,
        [string]$TokenEnv,
        [string]$ClientCertificate,
        [string]$ClientKey,
        [string]$CaFile,
        [string]$ReaderConfig,
        [string]$FciConnector
    )
    begin {
        $exe = Resolve-FciConnector $FciConnector
        $signIn = Get-SignInArgument $PSBoundParameters
    }
    process {
        foreach ($file in $Path) {
            $arguments = @('open')
            if ($PSCmdlet.ParameterSetName -eq 'Output') {
                $arguments += @('--output', (ConvertTo-NativeArgument $OutputPath))
            }
            else {
                $arguments += '--launch'
            }
            $arguments += $signIn
            $arguments += @('--', (ConvertTo-NativeArgument $file))
            $result = Invoke-FciConnector $exe $arguments
            if ($result.ExitCode -ne 0) {
                Write-FciError $PSCmdlet $result $file
            }
            [pscustomobject]@{
                PSTypeName = 'FciConnector.OpenResult'
                Path       = $file
                OutputPath = $OutputPath
                Opened     = ($result.ExitCode -eq 0)
                ExitCode   = $result.ExitCode
                Message    = ($result.Output -join [Environment]::NewLine)
            }
        }
    }
}

function Unprotect-FciFile {
    <#
    .SYNOPSIS
    Removes protection from files in place: through the licensing service for a user granted EXTRACT or OWNER, or
    offline with a recipient's private key.

    .DESCRIPTION
    Runs `fci-connector unprotect`. -Online asks the service that the file's license names (if reader.toml trusts
    it) or reader.toml's default_server; -Server names the service. -KeyFile uses a private key file instead
    (the template's issuer key or a recovery key; no service involved), and -OutputPath then writes the plaintext
    elsewhere instead of replacing the file. Emits one object per file: Path, Unprotected, ExitCode and Message.

    .PARAMETER Path
    Protected files. Accepts pipeline input, also from Get-ChildItem.

    .EXAMPLE
    Unprotect-FciFile -Path 'D:\Shares\Finance\Q3 report.docx' -Online

    .EXAMPLE
    Unprotect-FciFile -Path .\old.docx -KeyFile D:\Recovery\recovery.key.pem -PassphraseEnv FCI_KEY_PASSPHRASE
    #>
    [CmdletBinding(SupportsShouldProcess = $true, DefaultParameterSetName = 'Online')]
    param(
        [Parameter(Mandatory = $true, Position = 0, ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)]
        [Alias('FullName')]
        [string[]]$Path,
        [Parameter(ParameterSetName = 'Online')]
        [switch]$Online,
        [Parameter(Mandatory = $true, ParameterSetName = 'Key')]
        [string]$KeyFile,
        [Parameter(ParameterSetName = 'Key')]
        [string]$OutputPath,
        [Parameter(ParameterSetName = 'Key')]
        [string]$PassphraseEnv,
        [Parameter(ParameterSetName = 'Online')]
        [string]$Server,
        [Parameter(ParameterSetName = 'Online')]
        [string]$TokenFile,
        [Parameter(ParameterSetName = 'Online')]
        [string]$TokenEnv,
        [Parameter(ParameterSetName = 'Online')]
        [string]$ClientCertificate,
        [Parameter(ParameterSetName = 'Online')]
        [string]$ClientKey,
        [Parameter(ParameterSetName = 'Online')]
        [string]$CaFile,
        [Parameter(ParameterSetName = 'Online')]
        [string]$ReaderConfig,
        [string]$FciConnector
    )
    begin {
        $exe = Resolve-FciConnector $FciConnector
        $signIn = Get-SignInArgument $PSBoundParameters
    }
    process {
        foreach ($file in $Path) {
            if (-not $PSCmdlet.ShouldProcess($file, 'Remove protection')) {
                continue
            }
            $arguments = @('unprotect')
            if ($PSCmdlet.ParameterSetName -eq 'Key') {
                $arguments += @('--key', (ConvertTo-NativeArgument $KeyFile))
                if ($OutputPath) { $arguments += @('--output', (ConvertTo-NativeArgument $OutputPath)) }
                if ($PassphraseEnv) { $arguments += @('--passphrase-env', $PassphraseEnv) }
            }
            else {
                # --server alone means online through that service; otherwise the file's own.
                if (-not $Server) { $arguments += '--online' }
                $arguments += $signIn
            }
            $arguments += @('--', (ConvertTo-NativeArgument $file))
            $result = Invoke-FciConnector $exe $arguments
            if ($result.ExitCode -ne 0) {
                Write-FciError $PSCmdlet $result $file
            }
            [pscustomobject]@{
                PSTypeName  = 'FciConnector.UnprotectResult'
                Path        = $file
                Unprotected = ($result.ExitCode -eq 0)
                ExitCode    = $result.ExitCode
                Message     = ($result.Output -join [Environment]::NewLine)
            }
        }
    }
}

function Get-FciFileStatus {
    <#
    .SYNOPSIS
    Shows whether files are protected and by which template; with -CheckAccess, which rights you have on each.

    .DESCRIPTION
    Runs `fci-connector status --format json` and emits one object per file with Get-RMSFileStatus's FileName and
    Status (Protected, UnProtected, Damaged or Error), then what the cleartext license says: Protector, TemplateId,
    TemplateName, Owner, ContentId, Issued, ValidUntil, Rights, Recipients, LicenseServer, FormatVersion,
    OriginalName, OriginalSize, Error. No key and no sign-in are needed.

    With -CheckAccess it runs `fci-connector status --check-access` instead: the licensing service says which rights
    the signed-in user has on each file (no key is downloaded), and each object has FileName, Server, ContentId,
    Principal, Rights, ValidUntil, OfflineUntil, Revoked and Error.

    A folder lists the files in it (not below it).

    .PARAMETER Path
    Files or folders. Accepts pipeline input, also from Get-ChildItem.

    .EXAMPLE
    Get-ChildItem D:\Shares\Finance -Recurse -File | Get-FciFileStatus | Where-Object Status -eq 'UnProtected'

    .EXAMPLE
    Get-FciFileStatus -Path '\\fs1\Finance\Q3 report.docx' -CheckAccess
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true, Position = 0, ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)]
        [Alias('FullName')]
        [string[]]$Path,
        [switch]$CheckAccess,
        [string]$Server,
        [string]$TokenFile,
        [string]$TokenEnv,
        [string]$ClientCertificate,
        [string]$ClientKey,
        [string]$CaFile,
        [string]$ReaderConfig,
        [string]$FciConnector
    )
    begin {
        $exe = Resolve-FciConnector $FciConnector
        $signIn = Get-SignInArgument $PSBoundParameters
        $files = New-Object System.Collections.Generic.List[string]
        $statusNames = @{
            'protected'   = 'Protected'
            'unprotected' = 'UnProtected'
            'damaged'     = 'Damaged'
            'error'       = 'Error'
        }
    }
    process {
        foreach ($file in $Path) {
            $files.Add((ConvertTo-NativeArgument $file))
        }
    }
    end {
        # One process for all files; `--` so that no name is taken for an option.
        if ($CheckAccess) {
            $arguments = @('status', '--check-access') + $signIn + @('--') + $files
        }
        else {
            $arguments = @('status', '--format', 'json', '--') + $files
        }
        $result = Invoke-FciConnector $exe $arguments
        foreach ($line in $result.Output) {
            if (-not $line.Trim()) {
                continue
            }
            $row = $line | ConvertFrom-Json
            if ($CheckAccess) {
                [pscustomobject]@{
                    PSTypeName   = 'FciConnector.FileAccess'
                    FileName     = $row.path
                    Server       = $row.server
                    ContentId    = $row.content_id
                    Principal    = $row.principal
                    Rights       = $row.rights
                    ValidUntil   = $row.valid_until
                    OfflineUntil = $row.offline_until
                    Revoked      = $row.revoked
                    Error        = $row.error
                }
                continue
            }
            $status = $statusNames[[string]$row.state]
            if (-not $status) {
                $status = [string]$row.state
            }
            [pscustomobject]@{
                PSTypeName    = 'FciConnector.FileStatus'
                FileName      = $row.path
                Status        = $status
                Protector     = $row.protector
                TemplateId    = $row.template_id
                TemplateName  = $row.template_name
                Owner         = $row.owner
                ContentId     = $row.content_id
                Issued        = $row.issued
                ValidUntil    = $row.valid_until
                Rights        = $row.rights
                Recipients    = $row.recipients
                LicenseServer = $row.license_server
                FormatVersion = $row.format_version
                OriginalName  = $row.original_name
                OriginalSize  = $row.original_size
                Error         = $row.error
            }
        }
        if ($result.ExitCode -ne 0) {
            Write-FciError $PSCmdlet $result ($files -join ', ')
        }
    }
}

# Explorer's context menu for every file type ("*"), per user: HKCU needs no administrator and is removed with the
# user's profile. Through .NET: the registry provider would read the "*" key name as a wildcard.
$script:MenuKey = 'Software\Classes\*\shell\FciConnector.Open'

function Register-FciExplorerMenu {
    <#
    .SYNOPSIS
    Adds "Open protected file" to Explorer's context menu of every file, for the current user.

    .DESCRIPTION
    The entry runs `fci-connector open --launch "<file>"`: any file can be chosen, whatever its extension, and
    fci-connector says plainly when a file is not protected by it. The console window stays open while the file is
    open in its application and closes once the edit (if any) is protected again. Written under
    HKEY_CURRENT_USER\Software\Classes\*\shell\FciConnector.Open; no administrator rights are needed.

    .EXAMPLE
    Import-Module .\FciConnector.psm1; Register-FciExplorerMenu
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param(
        [string]$Text = 'Open protected file',
        [string]$FciConnector
    )
    $exe = Resolve-FciConnector $FciConnector
    $exe = [System.IO.Path]::GetFullPath($exe)
    if (-not $PSCmdlet.ShouldProcess("HKEY_CURRENT_USER\$script:MenuKey", 'Create')) {
        return
    }
    $key = [Microsoft.Win32.Registry]::CurrentUser.CreateSubKey($script:MenuKey)
    try {
        $key.SetValue('', $Text)
        $key.SetValue('Icon', "`"$exe`",0")
    }
    finally {
        $key.Close()
    }
    $command = [Microsoft.Win32.Registry]::CurrentUser.CreateSubKey("$script:MenuKey\command")
    try {
        $command.SetValue('', "`"$exe`" open --launch -- `"%1`"")
    }
    finally {
        $command.Close()
    }
}

function Unregister-FciExplorerMenu {
    <#
    .SYNOPSIS
    Removes the "Open protected file" entry of Register-FciExplorerMenu.

    .DESCRIPTION
    Deletes HKEY_CURRENT_USER\Software\Classes\*\shell\FciConnector.Open; nothing else is touched.

    .EXAMPLE
    Unregister-FciExplorerMenu
    #>
    [CmdletBinding(SupportsShouldProcess = $true)]
    param()
    if ($PSCmdlet.ShouldProcess("HKEY_CURRENT_USER\$script:MenuKey", 'Delete')) {
        [Microsoft.Win32.Registry]::CurrentUser.DeleteSubKeyTree($script:MenuKey, $false)
    }
}

Export-ModuleMember -Function @(
    'Connect-FciService',
    'Disconnect-FciService',
    'Open-FciFile',
    'Unprotect-FciFile',
    'Get-FciFileStatus',
    'Register-FciExplorerMenu',
    'Unregister-FciExplorerMenu'
)
