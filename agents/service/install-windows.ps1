<#
.SYNOPSIS
  Install the EduOps classroom agent on a Windows 10/11 terminal: a start-up task that
  restarts on failure. 在 Windows 终端上安装 EduOps 教室代理（开机自启、失败自动重启）。

.DESCRIPTION
  Run from an administrator PowerShell, in the folder of the county's agent bundle
  (this script and a "wheels" folder). No internet is needed. Steps:
    1. a Python virtual environment in -InstallDir with the agent from .\wheels;
    2. the state directory, readable only by SYSTEM and Administrators;
    3. agent.toml in the state directory (kept if it exists);
    4. enrollment, when -Hub, -Token and -Room are given;
    5. the scheduled task "EduOps Agent": at start-up, as SYSTEM, restarted every minute
       on failure, and checked every 5 minutes so a stopped agent starts again.
  See docs/agent.md.

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File .\install-windows.ps1 -Hub http://10.53.0.5:8080 -Token et_3kQ9... -Room R-530326-0001-101

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File .\install-windows.ps1 -Uninstall
#>
param(
    # The hub's address. Example: -Hub http://10.53.0.5:8080
    [string]$Hub,
    # Enrollment token for this school, from IT staff. Example: -Token et_3kQ9...
    [string]$Token,
    # Code of the room this machine stands in. Example: -Room R-530326-0001-101
    [string]$Room,
    # Python 3.11 or later. Example: -Python "C:\Program Files\Python311\python.exe"
    [string]$Python = "C:\Program Files\Python311\python.exe",
    # Folder of wheels: eduops, psutil, requests and what requests needs. Example: -Wheels D:\agent\wheels
    [string]$Wheels = (Join-Path $PSScriptRoot "wheels"),
    # Where the agent's program goes. Example: -InstallDir "C:\Program Files\EduOps\agent"
    [string]$InstallDir = "C:\Program Files\EduOps\agent",
    # Where its key, spool, settings and log go. Example: -StateDir C:\ProgramData\EduOps\agent
    [string]$StateDir = (Join-Path $env:ProgramData "EduOps\agent"),
    # Remove the task and the program (the state directory is kept). Example: -Uninstall
    [switch]$Uninstall
)
$ErrorActionPreference = "Stop"
$TaskName = "EduOps Agent"

$identity = [Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()
if (-not $identity.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw "请以管理员身份运行 PowerShell / Run PowerShell as administrator."
}

if ($Uninstall) {
    Stop-ScheduledTask -TaskName $TaskName -ErrorAction SilentlyContinue
    Unregister-ScheduledTask -TaskName $TaskName -Confirm:$false -ErrorAction SilentlyContinue
    Remove-Item -Recurse -Force $InstallDir -ErrorAction SilentlyContinue
    Write-Host "Removed. The key and spool stay in $StateDir; delete it to forget this enrollment."
    return
}

function Invoke-Checked([string]$What, [scriptblock]$Command) {
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$What failed (exit code $LASTEXITCODE); see the messages above." }
}

# 1. The program, in its own virtual environment, from the bundle's wheels only.
if (-not (Test-Path $Python)) { throw "Python not found at $Python; install Python 3.11+ for all users or pass -Python." }
$venvPython = Join-Path $InstallDir "venv\Scripts\python.exe"
if (-not (Test-Path $venvPython)) { Invoke-Checked "Creating the virtual environment" { & $Python -m venv (Join-Path $InstallDir "venv") } }
Invoke-Checked "Installing psutil and requests" { & $venvPython -m pip install --quiet --no-index --find-links $Wheels psutil requests }
# --no-deps: the hub's own dependencies (Flask and the rest) are not needed on a terminal.
Invoke-Checked "Installing the agent" { & $venvPython -m pip install --quiet --no-index --find-links $Wheels --no-deps --upgrade eduops }
$agent = Join-Path $InstallDir "venv\Scripts\eduops-agent.exe"

# 2. The state directory holds the agent key: SYSTEM and Administrators only (by SID, so it
#    works on Chinese Windows too), nothing inherited from ProgramData, which every user can read.
New-Item -ItemType Directory -Force -Path $StateDir | Out-Null
Invoke-Checked "Protecting $StateDir" { icacls $StateDir /inheritance:r /grant:r "*S-1-5-18:(OI)(CI)F" "*S-1-5-32-544:(OI)(CI)F" | Out-Null }

# 3. Settings: Windows paths, and a log file, since a scheduled task has no console.
$config = Join-Path $StateDir "agent.toml"
if (-not (Test-Path $config)) {
    $text = "# EduOps agent settings; every key is described in docs/agent.md.`r`n" +
            "state_dir = '$StateDir'`r`n" +
            "log_file = '$(Join-Path $StateDir "agent.log")'`r`n"
    [System.IO.File]::WriteAllText($config, $text)  # UTF-8 without a byte-order mark, as TOML wants
}

# 4. Enrollment.
if ($Hub -or $Token -or $Room) {
    if (-not ($Hub -and $Token -and $Room)) { throw "Enrollment needs all of -Hub, -Token and -Room." }
    Invoke-Checked "Enrollment" { & $agent enroll --hub $Hub --token $Token --room $Room --config $config }
}

# 5. The task. SYSTEM rather than LOCAL SERVICE: the state directory (and the key in it) then
#    stays readable by SYSTEM and Administrators only, not by every service sharing LOCAL SERVICE.
$action = New-ScheduledTaskAction -Execute $agent -Argument "run --config `"$config`""
$atStartup = New-ScheduledTaskTrigger -AtStartup
# Task Scheduler restarts a task that fails to start; this trigger also starts an agent that
# exited, and does nothing while it runs (MultipleInstances IgnoreNew).
$watchdog = New-ScheduledTaskTrigger -Once -At (Get-Date) -RepetitionInterval (New-TimeSpan -Minutes 5)
$settings = New-ScheduledTaskSettingsSet -RestartCount 255 -RestartInterval (New-TimeSpan -Minutes 1) `
    -ExecutionTimeLimit ([TimeSpan]::Zero) -MultipleInstances IgnoreNew -StartWhenAvailable `
    -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries -Priority 7
$principal = New-ScheduledTaskPrincipal -UserId "SYSTEM" -LogonType ServiceAccount -RunLevel Highest
Register-ScheduledTask -TaskName $TaskName -Action $action -Trigger $atStartup, $watchdog -Settings $settings `
    -Principal $principal -Description "EduOps classroom agent: reports this terminal's health to the county hub." `
    -Force | Out-Null
Start-ScheduledTask -TaskName $TaskName

Write-Host "Installed. Task '$TaskName' runs at start-up; log: $(Join-Path $StateDir 'agent.log')"
& $agent status --config $config
