<#
.SYNOPSIS
  Install the EduOps classroom agent on a Windows 10/11 terminal: a start-up task that
  restarts on failure. 在 Windows 终端上安装 EduOps 教室探针（开机自启、失败自动重启）。

.DESCRIPTION
  Run from an administrator PowerShell, in the folder of the county's agent bundle
  (this script and a "wheels" folder). No internet is needed. Saved as UTF-8 with a
  byte-order mark, so that Windows PowerShell 5.1 on Chinese Windows reads its Chinese. Steps:
    1. Python 3.8 or later: -Python, else the "py -3" launcher, else the registry; when there
       is none, the python-3.*-amd64.exe of the bundle is installed silently for all users;
    2. a virtual environment in -InstallDir with the agent from .\wheels;
    3. the state directory, readable only by SYSTEM and Administrators;
    4. agent.toml in the state directory (kept if it exists);
    5. enrollment, when -Hub, -Token and -Room are given (an unreachable hub does not stop
       the install: the agent keeps its reports until it is enrolled);
    6. the scheduled task "EduOps Agent": at start-up, as SYSTEM, restarted every minute
       on failure, and checked every 5 minutes so a stopped agent starts again.
  See agent.md in the bundle.

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
    # Python 3.8 or later, when it is not found by itself. Example: -Python "C:\Program Files\Python312\python.exe"
    [string]$Python,
    # Folder of wheels: eduops-agent, psutil, requests and what requests needs. Example: -Wheels D:\agent\wheels
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
    Write-Host "已卸载。密钥和缓存仍在 $StateDir，删除它即忘记这次注册。"
    Write-Host "Removed. The key and spool stay in $StateDir; delete it to forget this enrollment."
    return
}

function Invoke-Checked([string]$What, [scriptblock]$Command) {
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$What failed (exit code $LASTEXITCODE); see the messages above. / 失败，见上面的信息。" }
}

# Is this python.exe 3.8 or later? (Its own answer, whatever its folder is called.)
function Test-Python([string]$Candidate) {
    # Continue, not Stop: under Stop, Windows PowerShell 5.1 turns a native program's stderr into an error.
    $ErrorActionPreference = "Continue"
    if (-not $Candidate -or -not (Test-Path $Candidate)) { return $false }
    & $Candidate -c "import sys; sys.exit(sys.version_info < (3, 8))" 2>$null
    return ($LASTEXITCODE -eq 0)
}

# The newest Python 3.8+ that Windows knows of: the py launcher first, then the registry
# (python.org installers record every version there, for all users or for one user).
function Find-Python {
    $ErrorActionPreference = "Continue"
    $launcher = Get-Command py.exe -ErrorAction SilentlyContinue
    if ($launcher) {
        $found = & $launcher.Source -3 -c "import sys; print(sys.executable)" 2>$null
        if ($LASTEXITCODE -eq 0 -and (Test-Python "$found")) { return "$found" }
    }
    $keys = "HKLM:\SOFTWARE\Python\PythonCore", "HKCU:\SOFTWARE\Python\PythonCore",
            "HKLM:\SOFTWARE\WOW6432Node\Python\PythonCore"
    # Keys are named by version ("3.12", "3.12-32"): newest first, by number, not by text.
    $candidates = foreach ($key in $keys) {
        Get-ChildItem $key -ErrorAction SilentlyContinue | ForEach-Object {
            $install = Get-ItemProperty (Join-Path $_.PSPath "InstallPath") -ErrorAction SilentlyContinue
            $exe = $null
            if ($install -and $install.ExecutablePath) { $exe = $install.ExecutablePath }
            elseif ($install -and $install.'(default)') { $exe = Join-Path $install.'(default)' "python.exe" }
            $number = $_.PSChildName -replace '-.*$', ''
            if ($exe -and $number -match '^\d+\.\d+$') { [pscustomobject]@{ Version = [version]$number; Path = $exe } }
        }
    }
    foreach ($candidate in ($candidates | Sort-Object Version -Descending)) {
        if (Test-Python $candidate.Path) { return $candidate.Path }
    }
    return $null
}

# 1. Python: given, found, or installed from the bundle for all users.
if ($Python) {
    if (-not (Test-Python $Python)) {
        throw "需要 Python 3.8 或更高版本，$Python 不是 / Python 3.8 or later needed; $Python is not (or does not exist)."
    }
} else {
    $Python = Find-Python
}
if (-not $Python) {
    $installer = Get-ChildItem (Join-Path $PSScriptRoot "python-3.*-amd64.exe") -ErrorAction SilentlyContinue |
        Sort-Object { [version]($_.Name -replace '^python-([\d.]+)-amd64\.exe$', '$1') } -Descending |
        Select-Object -First 1
    if (-not $installer) {
        throw ("没有找到 Python 3.8 或更高版本，安装包里也没有 python-3.*-amd64.exe。/ Python 3.8 or later needed: " +
               "none found, and the bundle has no python-3.*-amd64.exe. Install Python for all users, or pass -Python.")
    }
    Write-Host "正在为所有用户安装 $($installer.Name)（几分钟）/ Installing $($installer.Name) for all users (a few minutes)..."
    $setup = Start-Process -FilePath $installer.FullName -Wait -PassThru `
        -ArgumentList "/quiet", "InstallAllUsers=1", "PrependPath=1", "Include_test=0"
    # 3010: installed, a restart is wanted later.
    if ($setup.ExitCode -ne 0 -and $setup.ExitCode -ne 3010) { throw "$($installer.Name) failed (exit code $($setup.ExitCode)). / Python 安装失败。" }
    $Python = Find-Python
    if (-not $Python) { throw "Python was installed but cannot be found; pass -Python. / 已安装 Python 但找不到，请用 -Python 指定。" }
}
Write-Host "Python: $Python"

# 2. The program, in its own virtual environment, from the bundle's wheels only. An upgrade stops
#    the running agent first: Windows cannot replace a program file in use.
Stop-ScheduledTask -TaskName $TaskName -ErrorAction SilentlyContinue
$venvPython = Join-Path $InstallDir "venv\Scripts\python.exe"
if (-not (Test-Path $venvPython)) { Invoke-Checked "Creating the virtual environment" { & $Python -m venv (Join-Path $InstallDir "venv") } }
Invoke-Checked "Installing the agent" { & $venvPython -m pip install --quiet --disable-pip-version-check --no-index --find-links $Wheels --upgrade eduops-agent }
$agent = Join-Path $InstallDir "venv\Scripts\eduops-agent.exe"

# 3. The state directory holds the agent key: SYSTEM and Administrators only (by SID, so it
#    works on Chinese Windows too), nothing inherited from ProgramData, which every user can read.
New-Item -ItemType Directory -Force -Path $StateDir | Out-Null
Invoke-Checked "Protecting $StateDir" { icacls $StateDir /inheritance:r /grant:r "*S-1-5-18:(OI)(CI)F" "*S-1-5-32-544:(OI)(CI)F" | Out-Null }

# 4. Settings: Windows paths, and a log file, since a scheduled task has no console.
$config = Join-Path $StateDir "agent.toml"
if (-not (Test-Path $config)) {
    $text = "# EduOps agent settings; every key is described in agent.md.`r`n" +
            "state_dir = '$StateDir'`r`n" +
            "log_file = '$(Join-Path $StateDir "agent.log")'`r`n"
    [System.IO.File]::WriteAllText($config, $text)  # UTF-8 without a byte-order mark
}

# 5. Enrollment. Exit code 75 means the hub cannot be reached now: the task is registered
#    anyway and the agent keeps its reports; run the same command again when the network is back.
$enrolled = $true
if ($Hub -or $Token -or $Room) {
    if (-not ($Hub -and $Token -and $Room)) { throw "Enrollment needs all of -Hub, -Token and -Room. / 注册需要同时给出 -Hub、-Token 和 -Room。" }
    & $agent enroll --hub $Hub --token $Token --room $Room --config $config
    if ($LASTEXITCODE -eq 75) {
        $enrolled = $false
        Write-Warning "连不上中心：仍然注册计划任务，报告先保存在本机；网络恢复后再运行一次本脚本。 / The hub cannot be reached now: the task is registered anyway and reports are kept; run this script again when the network is back."
    } elseif ($LASTEXITCODE -ne 0) {
        throw "Enrollment was refused (exit code $LASTEXITCODE); the message above says why. / 注册被拒绝，原因见上。"
    }
}

# 6. The task. SYSTEM rather than LOCAL SERVICE: the state directory (and the key in it) then
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

Write-Host "已安装。计划任务 $TaskName 开机运行；日志 / Installed. Task '$TaskName' runs at start-up; log: $(Join-Path $StateDir 'agent.log')"
Write-Host "第一次报告在启动后一分钟左右（随机等待），在此之前「最近成功」显示「从未」，属正常。"
Write-Host "The first report goes about a minute after start (a random wait): until then 'Last success: never' is normal."
Write-Host "稍后再查看 / Check again later:  & `"$agent`" status --config `"$config`""
& $agent status --config $config
if (-not $enrolled) { exit 75 }
