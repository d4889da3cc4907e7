// Loaded from a URL whose query string carries quotes and markup; writes a cookie and a storage key.
document.cookie = '<svg><script>alert(8)</' + 'script>=from-a-js; path=/; max-age=86400';
localStorage.setItem('<iframe src=javascript:alert(8)>', '1');
