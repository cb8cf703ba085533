/*  sn_http tests: request/response metadata and body lengths checked against upstream ground
    truth on real captures (suricata-verify, nDPI, Zeek), fed whole, byte by byte and in random
    splits; truncation, hostile framing, caps and the event mapping. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sn_http.h"

//  One piece of a capture in capture order: literal bytes, or `fill` body bytes, or a chunked
//  body given as (size, count) runs. Bodies are replaced by filler of the same length (the
//  parser only counts them); headers and chunk framing are the real bytes.
typedef struct {
    uint8_t dir;
    const char *bytes;
    uint32_t len;
    uint32_t fill;
    const uint32_t *runs;
    size_t n_runs;
} s_piece_t;

//  suricata-verify/tests/output-eve-fileinfo/input.pcap (10.16.1.11:59908 -> 188.40.238.250:80).
//  Ground truth: suricata-verify/tests/output-eve-fileinfo/expected/eve.json, "http" object:
//  hostname www.eicar.org, url /download/eicar.com, http_user_agent curl/7.43.0,
//  http_content_type application/octet-stream, http_method GET, status 200, length 68.
static const s_piece_t s_eicar[] = {
    {0,
     "GET /download/eicar.com HTTP/1.1\r\n"
     "Host: www.eicar.org\r\n"
     "User-Agent: curl/7.43.0\r\n"
     "Accept: */*\r\n"
     "\r\n",
     95, 0, NULL, 0},
    {1,
     "HTTP/1.1 200 OK\r\n"
     "Date: Wed, 08 Jun 2016 20:03:49 GMT\r\n"
     "Server: Apache\r\n"
     "Content-disposition: attachment; filename=\"eicar.com\"\r\n"
     "Cache-control: private\r\n"
     "Content-length: 68\r\n"
     "Content-Type: application/octet-stream\r\n"
     "\r\n"
     "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*\r\n"
     "\r\n",
     283, 0, NULL, 0},
};

//  nDPI/tests/cfgs/default/pcap/http.pcapng (192.168.1.128:42170 -> 216.58.208.142:80). Ground truth:
//  nDPI/tests/cfgs/default/result/http.pcapng.out line 27: [URL: google.com/][StatusCode: 301]
//  [Content-Type: text/html][User-Agent: curl/7.68.0].
static const s_piece_t s_google[] = {
    {0,
     "GET / HTTP/1.1\r\n"
     "Host: google.com\r\n"
     "User-Agent: curl/7.68.0\r\n"
     "Accept: */*\r\n"
     "\r\n",
     74, 0, NULL, 0},
    {1,
     "HTTP/1.1 301 Moved Permanently\r\n"
     "Location: http://www.google.com/\r\n"
     "Content-Type: text/html; charset=UTF-8\r\n"
     "Date: Tue, 25 Jan 2022 16:50:41 GMT\r\n"
     "Expires: Thu, 24 Feb 2022 16:50:41 GMT\r\n"
     "Cache-Control: public, max-age=2592000\r\n"
     "Server: gws\r\n"
     "Content-Length: 219\r\n"
     "X-XSS-Protection: 0\r\n"
     "X-Frame-Options: SAMEORIGIN\r\n"
     "\r\n"
     "<HTML><HEAD><meta http-equiv=\"content-type\" content=\"text/html;charset=utf-8\">\n"
     "<TITLE>301 Moved</TITLE></HEAD><BODY>\n"
     "<H1>301 Moved</H1>\n"
     "The document has moved\n"
     "<A HREF=\"http://www.google.com/\">here</A>.\r\n"
     "</BODY></HTML>\r\n",
     528, 0, NULL, 0},
};

//  nDPI/tests/cfgs/default/pcap/http-lines-split.pcap (192.168.0.1:39236 -> 192.168.0.20:31337),
//  headers split over segments as captured. Ground truth: nDPI/tests/cfgs/default/result/
//  http-lines-split.pcap.out line 27: [URL: toni.lan:31337/][StatusCode: 200]
//  [User-Agent: uclient-fetch].
static const s_piece_t s_split[] = {
    {0,
     "GET / HTTP/1.1\r\n"
     "Host: toni.lan:31337\r\n",
     38, 0, NULL, 0},
    {0,
     "User-Agent: uclient-fetch\r\n"
     "\r\n",
     29, 0, NULL, 0},
    {1, "HTTP/1.0 200 OK\r\n", 17, 0, NULL, 0},
    {1,
     "Server: SimpleHTTP/0.6 Python/2.7.16\r\n"
     "Date: Thu, 02 Jul 2020 18:09:00 GMT\r\n"
     "Content-type: text/html; charset=UTF-8\r\n"
     "Content-Length: 1476\r\n"
     "\r\n",
     139, 0, NULL, 0},
    {1, NULL, 0, 1321, NULL, 0},
    {1, NULL, 0, 155, NULL, 0},
};

//  zeek/testing/btest/Traces/http/100-continue.pcap, capture order: request headers, 100
//  Continue, request body, chunked 200. Ground truth: zeek/testing/btest/Baseline/
//  scripts.base.protocols.http.100-continue/http.log line 10: POST www.osu.edu / curl/7.17.1 ...,
//  request_body_len 2001, response_body_len 60731, status_code 200, info_code 100.
static const s_piece_t s_continue[] = {
    {0,
     "POST / HTTP/1.1\r\n"
     "User-Agent: curl/7.17.1 (i386-apple-darwin8.11.1) libcurl/7.17.1 zlib/1.2.3\r\n"
     "Host: www.osu.edu\r\n"
     "Accept: */*\r\n"
     "Content-Length: 2001\r\n"
     "Content-Type: application/x-www-form-urlencoded\r\n"
     "Expect: 100-continue\r\n"
     "\r\n",
     221, 0, NULL, 0},
    {1,
     "HTTP/1.1 100 Continue\r\n"
     "\r\n",
     25, 0, NULL, 0},
    {0, NULL, 0, 1460, NULL, 0},
    {0, NULL, 0, 541, NULL, 0},
    {1,
     "HTTP/1.1 200 OK\r\n"
     "Date: Thu, 19 Mar 2009 05:21:35 GMT\r\n"
     "Server: Apache/2.0.59 (Unix) mod_auth_kerb/5.3 mod_ssl/2.0.59 OpenSSL/0.9.7a "
     "mod_fastcgi/2.4.2 PHP/5.2.8\r\n"
     "X-Powered-By: PHP/5.2.8\r\n"
     "Connection: close\r\n"
     "Transfer-Encoding: chunked\r\n"
     "Content-Type: text/html\r\n"
     "X-Pad: avoid browser bug\r\n"
     "\r\n"
     "216e\r\n",
     291, 0, NULL, 0},
    {1, NULL, 0, 1169, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 89, NULL, 0},
    {1,
     "\r\n"
     "2130\r\n",
     8, 0, NULL, 0},
    {1, NULL, 0, 1363, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1293, NULL, 0},
    {1,
     "\r\n"
     "3147\r\n",
     8, 0, NULL, 0},
    {1, NULL, 0, 159, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 776, NULL, 0},
    {1,
     "\r\n"
     "224e\r\n",
     8, 0, NULL, 0},
    {1, NULL, 0, 676, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 806, NULL, 0},
    {1,
     "\r\n"
     "2008\r\n",
     8, 0, NULL, 0},
    {1, NULL, 0, 646, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 254, NULL, 0},
    {1,
     "\r\n"
     "20b9\r\n",
     8, 0, NULL, 0},
    {1, NULL, 0, 1198, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1339, NULL, 0},
    {1,
     "\r\n"
     "1647\r\n",
     8, 0, NULL, 0},
    {1, NULL, 0, 113, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1460, NULL, 0},
    {1, NULL, 0, 1210, NULL, 0},
    {1,
     "\r\n"
     "0\r\n"
     "\r\n",
     7, 0, NULL, 0},
};

//  zeek/testing/btest/Traces/http/http-post-large.pcap (127.0.0.1:37526 -> 127.0.0.1:80). Ground
//  truth: zeek/testing/btest/Baseline/scripts.policy.protocols.conn.speculative-service/
//  conn-post-large.log line 10: orig_bytes 61907, resp_bytes 60478, i.e. the 423-byte request
//  header + 61484 body bytes and the 157-byte response header + 60321 body bytes.
static const s_piece_t s_postlarge[] = {
    {0,
     "POST /hello HTTP/1.1\r\n"
     "Host: 127.0.0.1\r\n"
     "User-Agent: Mozilla/5.0 (X11; Fedora; Linux x86_64; rv:68.0) Gecko/20100101 Firefox/68.0\r\n"
     "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
     "Accept-Language: en-US,en;q=0.5\r\n"
     "Accept-Encoding: gzip, deflate\r\n"
     "Content-Type: application/x-www-form-urlencoded\r\n"
     "Content-Length: 61484\r\n"
     "Connection: keep-alive\r\n"
     "Referer: http://127.0.0.1/\r\n"
     "Upgrade-Insecure-Requests: 1\r\n"
     "\r\n",
     423, 0, NULL, 0},
    {0, NULL, 0, 32318, NULL, 0},
    {0, NULL, 0, 27, NULL, 0},
    {0, NULL, 0, 29139, NULL, 0},
    {1, "HTTP/1.0 200 OK\r\n", 17, 0, NULL, 0},
    {1,
     "Content-Type: text/html; charset=utf-8\r\n"
     "Content-Length: 60321\r\n"
     "Server: Werkzeug/0.15.5 Python/3.7.4\r\n"
     "Date: Wed, 28 Aug 2019 16:43:12 GMT\r\n"
     "\r\n",
     140, 0, NULL, 0},
    {1, NULL, 0, 32768, NULL, 0},
    {1, NULL, 0, 27553, NULL, 0},
};

//  zeek/testing/btest/Traces/http/no_crlf.pcap (10.1.6.206:49783 -> 5.2.136.90:80): one keep-alive
//  connection, five POSTs with Content-Length bodies, five chunked responses. Ground truth:
//  zeek/testing/btest/Baseline/scripts.base.protocols.http.http-no-crlf/http.log lines 10-14
//  (uris, host, user_agent, status_code 200, response_body_len 306596 411556 473908 287012 1172).
static const uint32_t s_nocrlf_runs1[] = {3943, 1, 4096, 68, 8192, 1, 15933, 1};
static const uint32_t s_nocrlf_runs2[] = {3943, 1,    4096, 8,    8192, 1,     4096,
                                          34,   8192, 1,    4096, 51,   10301, 1};
static const uint32_t s_nocrlf_runs3[] = {3943, 1, 4096, 90, 8192, 4, 4096, 1,
                                          8192, 4, 4096, 1,  8192, 3, 3021, 1};
static const uint32_t s_nocrlf_runs4[] = {3943, 1, 4096, 68, 4541, 1};
static const uint32_t s_nocrlf_runs5[] = {1172, 1};
static const s_piece_t s_nocrlf[] = {
    {0,
     "POST /7u0e9j2avwlvnuynyo/szcm27k/fzb067wy/ HTTP/1.1\r\n"
     "DNT: 0\r\n"
     "Referer: 5.2.136.90/7u0e9j2avwlvnuynyo/szcm27k/fzb067wy/\r\n"
     "Content-Type: multipart/form-data; boundary=----------------------CwMVdzFZjPk18XuSMrzHQH\r\n"
     "User-Agent: Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; WOW64; Trident/7.0; "
     ".NET4.0C; .NET4.0E)\r\n"
     "Host: 5.2.136.90\r\n"
     "Content-Length: 6084\r\n"
     "Connection: Keep-Alive\r\n"
     "Cache-Control: no-cache\r\n"
     "\r\n",
     405, 0, NULL, 0},
    {0, NULL, 0, 6084, NULL, 0},
    {1,
     "HTTP/1.1 200 OK\r\n"
     "Server: nginx\r\n"
     "Date: Wed, 06 Jan 2021 16:42:39 GMT\r\n"
     "Content-Type: text/html; charset=UTF-8\r\n"
     "Transfer-Encoding: chunked\r\n"
     "Connection: keep-alive\r\n"
     "Vary: Accept-Encoding\r\n"
     "\r\n",
     186, 0, NULL, 0},
    {1, NULL, 0, 0, s_nocrlf_runs1, 4},
    {0,
     "POST /ko5ezxmguvv/p8d4003oiu/utkdae7r/74uzr8n74r/ HTTP/1.1\r\n"
     "DNT: 0\r\n"
     "Referer: 5.2.136.90/ko5ezxmguvv/p8d4003oiu/utkdae7r/74uzr8n74r/\r\n"
     "Content-Type: multipart/form-data; boundary=---------------M8fFh4zVhNuzLBV\r\n"
     "User-Agent: Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; WOW64; Trident/7.0; "
     ".NET4.0C; .NET4.0E)\r\n"
     "Host: 5.2.136.90\r\n"
     "Content-Length: 7556\r\n"
     "Connection: Keep-Alive\r\n"
     "Cache-Control: no-cache\r\n"
     "\r\n",
     405, 0, NULL, 0},
    {0, NULL, 0, 7556, NULL, 0},
    {1,
     "HTTP/1.1 200 OK\r\n"
     "Server: nginx\r\n"
     "Date: Wed, 06 Jan 2021 16:42:43 GMT\r\n"
     "Content-Type: text/html; charset=UTF-8\r\n"
     "Transfer-Encoding: chunked\r\n"
     "Connection: keep-alive\r\n"
     "Vary: Accept-Encoding\r\n"
     "\r\n",
     186, 0, NULL, 0},
    {1, NULL, 0, 0, s_nocrlf_runs2, 7},
    {0,
     "POST /vwst360x8syxks325x/26dtqu31wzhmwqq/8p9iu8zbragj/ HTTP/1.1\r\n"
     "DNT: 0\r\n"
     "Referer: 5.2.136.90/vwst360x8syxks325x/26dtqu31wzhmwqq/8p9iu8zbragj/\r\n"
     "Content-Type: multipart/form-data; boundary=----------------------VAC4RxcUX7R5LmOKhs5xw5\r\n"
     "User-Agent: Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; WOW64; Trident/7.0; "
     ".NET4.0C; .NET4.0E)\r\n"
     "Host: 5.2.136.90\r\n"
     "Content-Length: 8212\r\n"
     "Connection: Keep-Alive\r\n"
     "Cache-Control: no-cache\r\n"
     "\r\n",
     429, 0, NULL, 0},
    {0, NULL, 0, 8212, NULL, 0},
    {1,
     "HTTP/1.1 200 OK\r\n"
     "Server: nginx\r\n"
     "Date: Wed, 06 Jan 2021 16:42:47 GMT\r\n"
     "Content-Type: text/html; charset=UTF-8\r\n"
     "Transfer-Encoding: chunked\r\n"
     "Connection: keep-alive\r\n"
     "Vary: Accept-Encoding\r\n"
     "\r\n",
     186, 0, NULL, 0},
    {1, NULL, 0, 0, s_nocrlf_runs3, 8},
    {0,
     "POST /mro86v6nvs42/ HTTP/1.1\r\n"
     "DNT: 0\r\n"
     "Referer: 5.2.136.90/mro86v6nvs42/\r\n"
     "Content-Type: multipart/form-data; boundary=----------------sAF7TaDL4lr4QneU\r\n"
     "User-Agent: Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; WOW64; Trident/7.0; "
     ".NET4.0C; .NET4.0E)\r\n"
     "Host: 5.2.136.90\r\n"
     "Content-Length: 6276\r\n"
     "Connection: Keep-Alive\r\n"
     "Cache-Control: no-cache\r\n"
     "\r\n",
     347, 0, NULL, 0},
    {0, NULL, 0, 6276, NULL, 0},
    {1,
     "HTTP/1.1 200 OK\r\n"
     "Server: nginx\r\n"
     "Date: Wed, 06 Jan 2021 16:42:52 GMT\r\n"
     "Content-Type: text/html; charset=UTF-8\r\n"
     "Transfer-Encoding: chunked\r\n"
     "Connection: keep-alive\r\n"
     "Vary: Accept-Encoding\r\n"
     "\r\n",
     186, 0, NULL, 0},
    {1, NULL, 0, 0, s_nocrlf_runs4, 3},
    {0,
     "POST /raet/u6tpsbdmo5g7crj4f/8l720ln/lwrl5fe38/1yje7g5qc/ HTTP/1.1\r\n"
     "DNT: 0\r\n"
     "Referer: 5.2.136.90/raet/u6tpsbdmo5g7crj4f/8l720ln/lwrl5fe38/1yje7g5qc/\r\n"
     "Content-Type: multipart/form-data; boundary=--------PsPNAh0F\r\n"
     "User-Agent: Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; WOW64; Trident/7.0; "
     ".NET4.0C; .NET4.0E)\r\n"
     "Host: 5.2.136.90\r\n"
     "Content-Length: 6228\r\n"
     "Connection: Keep-Alive\r\n"
     "Cache-Control: no-cache\r\n"
     "\r\n",
     407, 0, NULL, 0},
    {0, NULL, 0, 6228, NULL, 0},
    {1,
     "HTTP/1.1 200 OK\r\n"
     "Server: nginx\r\n"
     "Date: Wed, 06 Jan 2021 16:42:55 GMT\r\n"
     "Content-Type: text/html; charset=UTF-8\r\n"
     "Transfer-Encoding: chunked\r\n"
     "Connection: keep-alive\r\n"
     "Vary: Accept-Encoding\r\n"
     "\r\n",
     186, 0, NULL, 0},
    {1, NULL, 0, 0, s_nocrlf_runs5, 1},
};

//  zeek/testing/btest/Traces/http/http-desync-request-response-5.pcap (127.0.0.1:50170 ->
//  127.0.0.1:8080), capture order: five requests, the first answered by three responses.
//  Ground truth: zeek/testing/btest/Baseline/scripts.base.protocols.http.http-desynched/http.log
//  lines 10-16: seven transactions, #2 and #3 without a request, all 200 with 19 body bytes.
static const s_piece_t s_desync[] = {
    {0,
     "GET / HTTP/1.1\r\n"
     "Host: localhost:8080\r\n"
     "User-Agent: python-requests/2.31.0\r\n"
     "Accept-Encoding: gzip, deflate\r\n"
     "Accept: */*\r\n"
     "Connection: keep-alive\r\n"
     "\r\n",
     145, 0, NULL, 0},
    {1, "HTTP/1.1 200 OK\r\n", 17, 0, NULL, 0},
    {1, "Content-Type: text/html\r\n", 25, 0, NULL, 0},
    {1,
     "Content-Length: 19\r\n"
     "\r\n",
     22, 0, NULL, 0},
    {1,
     "<html>root\n"
     "</html>\n"
     "HTTP/1.1 200 OK\r\n"
     "Content-Type: text/html\r\n"
     "Content-Length: 19\r\n"
     "\r\n"
     "<html>root\n"
     "</html>\n"
     "HTTP/1.1 200 OK\r\n"
     "Content-Type: text/html\r\n"
     "Content-Length: 19\r\n"
     "\r\n"
     "<html>root\n"
     "</html>\n",
     185, 0, NULL, 0},
    {0,
     "GET / HTTP/1.1\r\n"
     "Host: localhost:8080\r\n"
     "User-Agent: python-requests/2.31.0\r\n"
     "Accept-Encoding: gzip, deflate\r\n"
     "Accept: */*\r\n"
     "Connection: keep-alive\r\n"
     "\r\n",
     145, 0, NULL, 0},
    {1, "HTTP/1.1 200 OK\r\n", 17, 0, NULL, 0},
    {1, "Content-Type: text/html\r\n", 25, 0, NULL, 0},
    {1,
     "Content-Length: 19\r\n"
     "\r\n",
     22, 0, NULL, 0},
    {1,
     "<html>root\n"
     "</html>\n",
     19, 0, NULL, 0},
    {0,
     "GET / HTTP/1.1\r\n"
     "Host: localhost:8080\r\n"
     "User-Agent: python-requests/2.31.0\r\n"
     "Accept-Encoding: gzip, deflate\r\n"
     "Accept: */*\r\n"
     "Connection: keep-alive\r\n"
     "\r\n",
     145, 0, NULL, 0},
    {1, "HTTP/1.1 200 OK\r\n", 17, 0, NULL, 0},
    {1, "Content-Type: text/html\r\n", 25, 0, NULL, 0},
    {1,
     "Content-Length: 19\r\n"
     "\r\n",
     22, 0, NULL, 0},
    {1,
     "<html>root\n"
     "</html>\n",
     19, 0, NULL, 0},
    {0,
     "GET / HTTP/1.1\r\n"
     "Host: localhost:8080\r\n"
     "User-Agent: python-requests/2.31.0\r\n"
     "Accept-Encoding: gzip, deflate\r\n"
     "Accept: */*\r\n"
     "Connection: keep-alive\r\n"
     "\r\n",
     145, 0, NULL, 0},
    {1, "HTTP/1.1 200 OK\r\n", 17, 0, NULL, 0},
    {1, "Content-Type: text/html\r\n", 25, 0, NULL, 0},
    {1,
     "Content-Length: 19\r\n"
     "\r\n"
     "<html>root\n"
     "</html>\n",
     41, 0, NULL, 0},
    {0,
     "GET / HTTP/1.1\r\n"
     "Host: localhost:8080\r\n"
     "User-Agent: python-requests/2.31.0\r\n"
     "Accept-Encoding: gzip, deflate\r\n"
     "Accept: */*\r\n"
     "Connection: keep-alive\r\n"
     "\r\n",
     145, 0, NULL, 0},
    {1, "HTTP/1.1 200 OK\r\n", 17, 0, NULL, 0},
    {1,
     "Content-Type: text/html\r\n"
     "Content-Length: 19\r\n"
     "\r\n"
     "<html>root\n"
     "</html>\n",
     66, 0, NULL, 0},
};

#define S_N(a) (sizeof (a) / sizeof ((a)[0]))
#define S_SINK_MAX 64

typedef struct {
    size_t n;
    sn_http_record_t rec[S_SINK_MAX];
} s_sink_t;

static void
s_on_record (void *arg, const sn_http_record_t *rec)
{
    s_sink_t *sink = (s_sink_t *) arg;
    cr_assert_lt (sink->n, S_SINK_MAX);
    sink->rec[sink->n++] = *rec;
}

static s_sink_t *
s_sink_new (void)
{
    s_sink_t *sink = (s_sink_t *) calloc (1, sizeof (s_sink_t));
    cr_assert_not_null (sink);
    return sink;
}

//  The bytes of one piece, built in a heap buffer.
static uint8_t *
s_piece_bytes (const s_piece_t *p, size_t *len)
{
    size_t n = p->len + p->fill;
    for (size_t r = 0; r < p->n_runs; r++)
        n += (size_t) p->runs[2 * r + 1] * (p->runs[2 * r] + 16);
    if (p->runs)
        n += 8;
    uint8_t *buf = (uint8_t *) malloc (n + 1);
    cr_assert_not_null (buf);
    size_t pos = 0;
    if (p->bytes) {
        memcpy (buf, p->bytes, p->len);
        pos = p->len;
    }
    memset (buf + pos, 'x', p->fill);
    pos += p->fill;
    for (size_t r = 0; r < p->n_runs; r++)
        for (uint32_t k = 0; k < p->runs[2 * r + 1]; k++) {
            int w = snprintf ((char *) buf + pos, 16, "%x\r\n", p->runs[2 * r]);
            pos += (size_t) w;
            memset (buf + pos, 'x', p->runs[2 * r]);
            pos += p->runs[2 * r];
            memcpy (buf + pos, "\r\n", 2);
            pos += 2;
        }
    if (p->runs) {
        memcpy (buf + pos, "0\r\n\r\n", 5);
        pos += 5;
    }
    *len = pos;
    return buf;
}

//  Feeds the pieces in order, each cut in segments of `max_seg` bytes (random sizes up to it
//  when `seed` != 0), then flushes. Returns the records.
static s_sink_t *
s_run (const s_piece_t *pieces, size_t n_pieces, size_t max_seg, unsigned int seed)
{
    s_sink_t *sink = s_sink_new ();
    sn_http_t *http = sn_http_new (s_on_record, sink);
    cr_assert_not_null (http);
    srand (seed);
    for (size_t i = 0; i < n_pieces; i++) {
        size_t len;
        uint8_t *buf = s_piece_bytes (&pieces[i], &len);
        size_t pos = 0;
        while (pos < len) {
            size_t n = max_seg == 0 ? len : seed ? (size_t) rand () % max_seg + 1 : max_seg;
            if (n > len - pos)
                n = len - pos;
            cr_assert_eq (sn_http_feed (http, pieces[i].dir, buf + pos, n), 0);
            pos += n;
        }
        free (buf);
    }
    sn_http_flush (http);
    sn_http_destroy (&http);
    cr_assert_null (http);
    return sink;
}

#define S_RUN(pieces) s_run (pieces, S_N (pieces), 0, 0)

static void
s_expect (const sn_http_record_t *r, const char *method, const char *host, const char *uri,
          const char *ua, uint16_t status, const char *ctype, uint64_t req_len, uint64_t resp_len)
{
    cr_assert_str_eq (r->method, method);
    cr_assert_str_eq (r->host, host);
    cr_assert_str_eq (r->uri, uri);
    cr_assert_str_eq (r->user_agent, ua);
    cr_assert_eq (r->status, status);
    cr_assert_str_eq (r->content_type, ctype);
    cr_assert_eq (r->request_len, req_len, "request_len %llu", (unsigned long long) r->request_len);
    cr_assert_eq (r->response_len, resp_len, "response_len %llu",
                  (unsigned long long) r->response_len);
}

Test (sn_http, suricata_eicar)
{
    s_sink_t *s = S_RUN (s_eicar);
    cr_assert_eq (s->n, 1);
    s_expect (&s->rec[0], "GET", "www.eicar.org", "/download/eicar.com", "curl/7.43.0", 200,
              "application/octet-stream", 0, 68);
    free (s);
}

Test (sn_http, ndpi_google_301)
{
    s_sink_t *s = S_RUN (s_google);
    cr_assert_eq (s->n, 1);
    //  "Content-Type: text/html; charset=UTF-8" on the wire: the media type is kept, as nDPI does.
    s_expect (&s->rec[0], "GET", "google.com", "/", "curl/7.68.0", 301, "text/html", 0, 219);
    free (s);
}

Test (sn_http, ndpi_lines_split)
{
    s_sink_t *s = S_RUN (s_split);
    cr_assert_eq (s->n, 1);
    //  nDPI prints no content type for this flow; text/html is what the header says.
    s_expect (&s->rec[0], "GET", "toni.lan:31337", "/", "uclient-fetch", 200, "text/html", 0, 1476);
    free (s);
}

Test (sn_http, zeek_100_continue)
{
    s_sink_t *s = S_RUN (s_continue);
    //  The interim 100 is not a transaction of its own.
    cr_assert_eq (s->n, 1);
    s_expect (&s->rec[0], "POST", "www.osu.edu", "/",
              "curl/7.17.1 (i386-apple-darwin8.11.1) libcurl/7.17.1 zlib/1.2.3", 200, "text/html",
              2001, 60731);
    free (s);
}

Test (sn_http, zeek_post_large)
{
    s_sink_t *s = S_RUN (s_postlarge);
    cr_assert_eq (s->n, 1);
    s_expect (&s->rec[0], "POST", "127.0.0.1", "/hello",
              "Mozilla/5.0 (X11; Fedora; Linux x86_64; rv:68.0) Gecko/20100101 Firefox/68.0", 200,
              "text/html", 61484, 60321);
    //  conn.log's payload byte counts are the header blocks plus these bodies.
    cr_assert_eq (s_postlarge[0].len + s->rec[0].request_len, 61907);
    cr_assert_eq (s_postlarge[4].len + s_postlarge[5].len + s->rec[0].response_len, 60478);
    free (s);
}

static const char *const s_nocrlf_uri[5] = {
    "/7u0e9j2avwlvnuynyo/szcm27k/fzb067wy/", "/ko5ezxmguvv/p8d4003oiu/utkdae7r/74uzr8n74r/",
    "/vwst360x8syxks325x/26dtqu31wzhmwqq/8p9iu8zbragj/", "/mro86v6nvs42/",
    "/raet/u6tpsbdmo5g7crj4f/8l720ln/lwrl5fe38/1yje7g5qc/"};
//  Zeek's response_body_len; its request_body_len (6086 7558 8214 6278 6230) is 2 more than
//  each Content-Length because Zeek measures the multipart entity, which is the point of that
//  test; we count the Content-Length bytes on the wire.
static const uint64_t s_nocrlf_resp[5] = {306596, 411556, 473908, 287012, 1172};
static const uint64_t s_nocrlf_req[5] = {6084, 7556, 8212, 6276, 6228};

static void
s_check_nocrlf (const s_sink_t *s)
{
    cr_assert_eq (s->n, 5);
    for (int i = 0; i < 5; i++)
        s_expect (&s->rec[i], "POST", "5.2.136.90", s_nocrlf_uri[i],
                  "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; WOW64; Trident/7.0; "
                  ".NET4.0C; .NET4.0E)",
                  200, "text/html", s_nocrlf_req[i], s_nocrlf_resp[i]);
}

Test (sn_http, zeek_keep_alive_chunked)
{
    s_sink_t *s = S_RUN (s_nocrlf);
    s_check_nocrlf (s);
    free (s);
}

static void
s_check_desync (const s_sink_t *s)
{
    cr_assert_eq (s->n, 7);
    for (size_t i = 0; i < 7; i++) {
        if (i == 1 || i == 2)
            s_expect (&s->rec[i], "", "", "", "", 200, "text/html", 0, 19);
        else
            s_expect (&s->rec[i], "GET", "localhost:8080", "/", "python-requests/2.31.0", 200,
                      "text/html", 0, 19);
    }
}

Test (sn_http, zeek_desynched_responses)
{
    s_sink_t *s = S_RUN (s_desync);
    s_check_desync (s);
    free (s);
}

static void
s_assert_same (const s_sink_t *a, const s_sink_t *b)
{
    cr_assert_eq (a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        cr_assert_eq (memcmp (&a->rec[i], &b->rec[i], sizeof (sn_http_record_t)), 0, "record %zu",
                      i);
}

typedef struct {
    const s_piece_t *p;
    size_t n;
} s_capture_t;

Test (sn_http, segmentation_same_result)
{
    const s_capture_t caps[] = {
        {s_eicar, S_N (s_eicar)},         {s_google, S_N (s_google)},
        {s_split, S_N (s_split)},         {s_continue, S_N (s_continue)},
        {s_postlarge, S_N (s_postlarge)}, {s_desync, S_N (s_desync)},
        {s_nocrlf, S_N (s_nocrlf)},
    };
    for (size_t c = 0; c < S_N (caps); c++) {
        s_sink_t *whole = s_run (caps[c].p, caps[c].n, 0, 0);
        cr_assert_gt (whole->n, 0);
        s_sink_t *bytes = s_run (caps[c].p, caps[c].n, 1, 0);
        s_assert_same (whole, bytes);
        free (bytes);
        for (unsigned int seed = 1; seed <= 8; seed++) {
            s_sink_t *split = s_run (caps[c].p, caps[c].n, 300, seed);
            s_assert_same (whole, split);
            free (split);
        }
        free (whole);
    }
}

Test (sn_http, every_prefix_of_a_response)
{
    //  eicar: request whole, then each prefix of the response, then the close.
    size_t resp_len = s_eicar[1].len;
    size_t hdr_len = (size_t) (strstr (s_eicar[1].bytes, "\r\n\r\n") - s_eicar[1].bytes) + 4;
    for (size_t n = 0; n <= resp_len; n++) {
        s_sink_t *s = s_sink_new ();
        sn_http_t *http = sn_http_new (s_on_record, s);
        cr_assert_eq (sn_http_feed (http, 0, (const uint8_t *) s_eicar[0].bytes, s_eicar[0].len),
                      0);
        cr_assert_eq (sn_http_feed (http, 1, (const uint8_t *) s_eicar[1].bytes, n), 0);
        sn_http_flush (http);
        sn_http_destroy (&http);
        cr_assert_eq (s->n, 1, "prefix %zu", n);
        cr_assert_str_eq (s->rec[0].method, "GET");
        cr_assert_eq (s->rec[0].status, n >= hdr_len ? 200 : 0, "prefix %zu", n);
        size_t body = n > hdr_len ? n - hdr_len : 0;
        cr_assert_eq (s->rec[0].response_len, body < 68 ? body : 68, "prefix %zu", n);
        free (s);
    }
    //  Each prefix of a request: never rejected; the record appears once the block is complete.
    for (size_t n = 0; n <= s_eicar[0].len; n++) {
        s_sink_t *s = s_sink_new ();
        sn_http_t *http = sn_http_new (s_on_record, s);
        cr_assert_eq (sn_http_feed (http, 0, (const uint8_t *) s_eicar[0].bytes, n), 0);
        sn_http_flush (http);
        sn_http_destroy (&http);
        cr_assert_eq (s->n, n == s_eicar[0].len ? 1 : 0, "prefix %zu", n);
        free (s);
    }
}

//  Feeds C strings: request text, response text; flushes; returns the records.
static s_sink_t *
s_talk (const char *req, const char *resp, int *rc_req, int *rc_resp)
{
    s_sink_t *s = s_sink_new ();
    sn_http_t *http = sn_http_new (s_on_record, s);
    int a = sn_http_feed (http, 0, (const uint8_t *) req, strlen (req));
    int b = resp ? sn_http_feed (http, 1, (const uint8_t *) resp, strlen (resp)) : 0;
    if (rc_req)
        *rc_req = a;
    if (rc_resp)
        *rc_resp = b;
    sn_http_flush (http);
    sn_http_destroy (&http);
    return s;
}

Test (sn_http, not_http_is_rejected)
{
    int a, b;
    s_sink_t *s = s_talk ("SSH-2.0-OpenSSH_9.7\r\n", NULL, &a, NULL);
    cr_assert_eq (a, -1);
    cr_assert_eq (s->n, 0);
    free (s);
    s = s_talk ("\x16\x03\x01\x02\x00\x01", NULL, &a, NULL);
    cr_assert_eq (a, -1);
    free (s);
    s = s_talk ("GET / HTTP/1.1\r\n\r\n", "SSH-2.0-OpenSSH_7.4\r\n", &a, &b);
    cr_assert_eq (a, 0);
    cr_assert_eq (b, -1);
    free (s);
    //  A request line without a version (HTTP/0.9 is not supported) or with a bad one.
    s = s_talk ("GET /\r\n\r\n", NULL, &a, NULL);
    cr_assert_eq (a, -1);
    free (s);
    s = s_talk ("GET / FTP/1.0\r\n\r\n", NULL, &a, NULL);
    cr_assert_eq (a, -1);
    free (s);
    //  Once rejected, stays rejected.
    s_sink_t *sink = s_sink_new ();
    sn_http_t *http = sn_http_new (s_on_record, sink);
    cr_assert_eq (sn_http_feed (http, 0, (const uint8_t *) "\x00\x01", 2), -1);
    cr_assert_eq (sn_http_feed (http, 0, (const uint8_t *) "GET / HTTP/1.1\r\n\r\n", 18), -1);
    cr_assert_eq (sn_http_feed (http, 2, (const uint8_t *) "x", 1), -1);
    sn_http_destroy (&http);
    sn_http_destroy (&http);
    sn_http_destroy (NULL);
    free (sink);
}

Test (sn_http, head_204_304_have_no_body)
{
    s_sink_t *s = s_talk ("HEAD /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"
                          "GET /c HTTP/1.1\r\nHost: h\r\n\r\nGET /d HTTP/1.1\r\nHost: h\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
                          "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
                          "HTTP/1.1 304 Not Modified\r\n\r\n"
                          "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
                          NULL, NULL);
    cr_assert_eq (s->n, 4);
    s_expect (&s->rec[0], "HEAD", "h", "/a", "", 200, "", 0, 0);
    s_expect (&s->rec[1], "GET", "h", "/b", "", 204, "", 0, 0);
    s_expect (&s->rec[2], "GET", "h", "/c", "", 304, "", 0, 0);
    s_expect (&s->rec[3], "GET", "h", "/d", "", 200, "", 0, 3);
    free (s);
}

Test (sn_http, chunked_with_extensions_and_trailers)
{
    s_sink_t *s = s_talk ("POST /u HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                          "5;ext=1\r\nhello\r\nA \r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n"
                          "\r\nGET /next HTTP/1.1\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1a\r\n"
                          "abcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n"
                          "HTTP/1.0 200 OK\r\nContent-Type:TEXT/plain ; q=1\r\n\r\nuntil close",
                          NULL, NULL);
    cr_assert_eq (s->n, 2);
    s_expect (&s->rec[0], "POST", "", "/u", "", 200, "", 15, 26);
    //  The second response has no length: it ends at the close (the flush).
    s_expect (&s->rec[1], "GET", "", "/next", "", 200, "TEXT/plain", 0, 11);
    free (s);
}

Test (sn_http, switching_protocols_ends_parsing)
{
    s_sink_t *s = s_sink_new ();
    sn_http_t *http = sn_http_new (s_on_record, s);
    const char *req = "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n";
    const char *resp =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello";
    cr_assert_eq (sn_http_feed (http, 0, (const uint8_t *) req, strlen (req)), 0);
    cr_assert_eq (sn_http_feed (http, 1, (const uint8_t *) resp, strlen (resp)), 0);
    cr_assert_eq (s->n, 1);
    cr_assert_eq (sn_http_feed (http, 0, (const uint8_t *) "\x81\x85junk", 7), 0);
    sn_http_flush (http);
    sn_http_destroy (&http);
    cr_assert_eq (s->n, 1);
    s_expect (&s->rec[0], "GET", "a", "/ws", "", 101, "", 0, 0);
    free (s);
}

Test (sn_http, hostile_lengths)
{
    //  Content-Length overflowing 64 bits, negative, or conflicting: the request side is given
    //  up (its framing is lost), the response still pairs with it.
    const char *bad_cl[] = {"Content-Length: 99999999999999999999999\r\n", "Content-Length: -1\r\n",
                            "Content-Length: 5\r\nContent-Length: 6\r\n", "Content-Length:\r\n"};
    for (size_t i = 0; i < S_N (bad_cl); i++) {
        char req[256];
        snprintf (req, sizeof (req), "POST /x HTTP/1.1\r\n%s\r\nGET /y HTTP/1.1\r\n\r\n",
                  bad_cl[i]);
        s_sink_t *s = s_talk (req, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", NULL, NULL);
        cr_assert_eq (s->n, 1, "case %zu", i);
        s_expect (&s->rec[0], "POST", "", "/x", "", 200, "", 0, 0);
        free (s);
    }
    //  A chunk size past 2^60 (Zeek's chunk_2pow64_overflow idea): the response is reported
    //  as far as it got, then that side is given up.
    s_sink_t *s = s_talk ("GET / HTTP/1.1\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "3\r\nabc\r\n10000000000000000\r\nxxxx",
                          NULL, NULL);
    cr_assert_eq (s->n, 1);
    s_expect (&s->rec[0], "GET", "", "/", "", 200, "", 0, 3);
    free (s);
    //  Garbage instead of a chunk size.
    s = s_talk ("GET / HTTP/1.1\r\n\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", NULL, NULL);
    cr_assert_eq (s->n, 1);
    cr_assert_eq (s->rec[0].status, 200);
    free (s);
    //  Garbage after a valid exchange: that side is given up, not rejected.
    int a;
    s = s_talk ("GET / HTTP/1.1\r\n\r\n\x01\x02\x03 garbage\r\n\r\n", NULL, &a, NULL);
    cr_assert_eq (a, 0);
    cr_assert_eq (s->n, 1);
    free (s);
}

Test (sn_http, caps_header_block_uri_and_pipeline)
{
    //  A header block over SN_HTTP_HEADER_MAX: the lines seen are used, then that side stops.
    size_t big = SN_HTTP_HEADER_MAX + 1000;
    char *req = (char *) malloc (big + 1);
    int w = snprintf (req, big, "GET /big HTTP/1.1\r\nHost: h\r\nUser-Agent: u\r\nX-Pad: ");
    memset (req + w, 'p', big - (size_t) w);
    req[big] = '\0';
    s_sink_t *s = s_talk (req, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", NULL, NULL);
    cr_assert_eq (s->n, 1);
    s_expect (&s->rec[0], "GET", "h", "/big", "u", 200, "", 0, 2);
    free (s);
    //  The same on a response.
    w = snprintf (req, big, "HTTP/1.1 200 OK\r\nContent-Type: a/b\r\nX-Pad: ");
    memset (req + w, 'p', big - (size_t) w);
    s = s_talk ("GET / HTTP/1.1\r\n\r\n", req, NULL, NULL);
    cr_assert_eq (s->n, 1);
    s_expect (&s->rec[0], "GET", "", "/", "", 200, "a/b", 0, 0);
    free (s);
    //  A URI longer than MM_LONG_MAX is cut.
    w = snprintf (req, big, "GET /");
    memset (req + w, 'u', 5000);
    snprintf (req + w + 5000, 64, " HTTP/1.1\r\n\r\n");
    s = s_talk (req, NULL, NULL, NULL);
    cr_assert_eq (s->n, 1);
    cr_assert_eq (strlen (s->rec[0].uri), MM_LONG_MAX);
    cr_assert_eq (s->rec[0].status, 0);
    free (s);
    free (req);
    //  Forty pipelined requests, no response: all reported unanswered, none lost or leaked.
    char *many = (char *) malloc (40 * 32);
    size_t pos = 0;
    for (int i = 0; i < 40; i++)
        pos += (size_t) snprintf (many + pos, 32, "GET /%d HTTP/1.1\r\n\r\n", i);
    s = s_talk (many, NULL, NULL, NULL);
    cr_assert_eq (s->n, 40);
    for (int i = 0; i < 40; i++) {
        char uri[8];
        snprintf (uri, sizeof (uri), "/%d", i);
        cr_assert_str_eq (s->rec[i].uri, uri);
        cr_assert_eq (s->rec[i].status, 0);
    }
    free (s);
    free (many);
}

Test (sn_http, to_event)
{
    s_sink_t *s = S_RUN (s_eicar);
    mm_http_t ev;
    sn_http_to_event (&s->rec[0], &ev);
    cr_assert (mm_str_eq (ev.method, "GET"));
    cr_assert (mm_str_eq (ev.host, "www.eicar.org"));
    cr_assert (mm_str_eq (ev.uri, "/download/eicar.com"));
    cr_assert (mm_str_eq (ev.user_agent, "curl/7.43.0"));
    cr_assert (mm_str_eq (ev.content_type, "application/octet-stream"));
    cr_assert_eq (ev.status, 200);
    cr_assert_eq (ev.request_len, 0);
    cr_assert_eq (ev.response_len, 68);
    free (s);
    //  A response without request: absent strings stay absent.
    sn_http_record_t rec;
    memset (&rec, 0, sizeof (rec));
    rec.status = 204;
    sn_http_to_event (&rec, &ev);
    cr_assert_eq (ev.method.len, 0);
    cr_assert_eq (ev.host.len, 0);
    cr_assert_eq (ev.uri.len, 0);
    cr_assert_eq (ev.content_type.len, 0);
    cr_assert_eq (ev.status, 204);
}
